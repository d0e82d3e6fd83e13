using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Sync;

/// <summary>Every rule of the protocol, through HTTP: a bad batch is answered with a problem
/// that names the field and the rule, and stores nothing.</summary>
public class ValidationTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    private static readonly string Future = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(3).ToString("yyyy-MM-dd");

    /// <summary>A valid two-event batch as mutable JSON: [0] opens the episode, [1] records a session.</summary>
    private static JsonObject ValidBatch(out Guid episodeId)
    {
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session());
        episodeId = episode.Id;
        return JsonNode.Parse(JsonSerializer.Serialize(episode.Batch(), ProtocolJson.Options))!.AsObject();
    }

    private static JsonObject Data(JsonObject batch, int eventIndex) =>
        batch["episodes"]![0]!["events"]![eventIndex]!["data"]!.AsObject();

    private static JsonObject Envelope(JsonObject batch, int eventIndex) =>
        batch["episodes"]![0]!["events"]![eventIndex]!.AsObject();

    public static TheoryData<string, string, string> Cases() => new()
    {
        // name of the case, expected field, expected rule
        { "name-field-in-opening", "episodes[0].events[0].data.name", "unknown-field" },
        { "birth-date-in-opening", "episodes[0].events[0].data.birthDate", "unknown-field" },
        { "phone-in-session", "episodes[0].events[1].data.phone", "unknown-field" },
        { "unknown-field-in-envelope", "episodes[0].events[0].note", "unknown-field" },
        { "unknown-field-in-batch", "deviceOwner", "unknown-field" },
        { "missing-baseline", "episodes[0].events[0].data.baselineNprs", "required" },
        { "nprs-above-10", "episodes[0].events[1].data.nprsBefore", "range" },
        { "nprs-negative", "episodes[0].events[1].data.nprsAfter", "range" },
        { "nprs-fraction", "episodes[0].events[0].data.baselineNprs", "integer" },
        { "nprs-as-string", "episodes[0].events[1].data.nprsBefore", "integer" },
        { "ndi-above-50", "episodes[0].events[0].data.baselineNdi", "range" },
        { "odi-above-100", "episodes[0].events[0].data.baselineOdi", "range" },
        { "outcome-ndi-fraction", "episodes[0].events[2].data.score", "integer" },
        { "outcome-odi-above-100", "episodes[0].events[2].data.score", "range" },
        { "outcome-psfs-above-10", "episodes[0].events[2].data.score", "range" },
        { "outcome-groc-beyond-7", "episodes[0].events[2].data.score", "range" },
        { "session-in-future", "episodes[0].events[1].data.sessionDate", "not-in-future" },
        { "opening-before-2000", "episodes[0].events[0].data.openedOn", "range" },
        { "bad-date-format", "episodes[0].events[1].data.sessionDate", "date" },
        { "both-onset-and-duration", "episodes[0].events[0].data.painOnsetDate", "exactly-one-of" },
        { "onset-after-opening", "episodes[0].events[0].data.painOnsetDate", "not-after-opening" },
        { "pseudonym-is-a-name", "episodes[0].events[0].data.patientPseudonym", "pseudonym-format" },
        { "pseudonym-is-a-phone-number", "episodes[0].events[0].data.patientPseudonym", "pseudonym-format" },
        { "pseudonym-is-an-email", "episodes[0].events[0].data.patientPseudonym", "pseudonym-format" },
        { "unknown-region", "episodes[0].events[0].data.region", "allowed-values" },
        { "enum-as-number", "episodes[0].events[0].data.sex", "allowed-values" },
        { "no-techniques", "episodes[0].events[1].data.techniques", "min-items" },
        { "repeated-technique", "episodes[0].events[1].data.techniques", "unique-items" },
        { "minutes-too-long", "episodes[0].events[1].data.minutes", "range" },
        { "unknown-event-type", "episodes[0].events[1].type", "allowed-values" },
        { "position-zero", "episodes[0].events[0].position", "range" },
        { "positions-not-consecutive", "episodes[0].events[1].position", "consecutive" },
        { "empty-event-id", "episodes[0].events[1].eventId", "non-empty" },
        { "malformed-event-id", "episodes[0].events[1].eventId", "guid" },
        { "event-id-twice", "episodes[0].events[1].eventId", "unique" },
        { "episode-twice", "episodes[1].episodeId", "unique" },
        { "no-episodes", "episodes", "item-count" },
        { "duplicate-json-property", "episodes[0].events[1].data.minutes", "duplicate-field" },
        { "null-required", "episodes[0].events[1].data.format", "required" },
    };

    private static string Mutate(string name, JsonObject batch)
    {
        JsonObject Opening() => Data(batch, 0);
        JsonObject Session() => Data(batch, 1);
        void AddOutcome(string instrument, double score)
        {
            var outcome = EventEnvelope.For(Guid.NewGuid(), 3, new OutcomeMeasured(Sample.Start, Instrument.Nprs, 5));
            var node = JsonNode.Parse(JsonSerializer.Serialize(outcome, ProtocolJson.Options))!;
            node["data"]!["instrument"] = instrument;
            node["data"]!["score"] = score;
            batch["episodes"]![0]!["events"]!.AsArray().Add(node);
        }

        switch (name)
        {
            case "name-field-in-opening": Opening()["name"] = "Jane Doe"; break;
            case "birth-date-in-opening": Opening()["birthDate"] = "1970-01-01"; break;
            case "phone-in-session": Session()["phone"] = "+15551234567"; break;
            case "unknown-field-in-envelope": Envelope(batch, 0)["note"] = "called back"; break;
            case "unknown-field-in-batch": batch["deviceOwner"] = "Dr Smith"; break;
            case "missing-baseline": Opening().Remove("baselineNprs"); break;
            case "nprs-above-10": Session()["nprsBefore"] = 11; break;
            case "nprs-negative": Session()["nprsAfter"] = -1; break;
            case "nprs-fraction": Opening()["baselineNprs"] = 6.5; break;
            case "nprs-as-string": Session()["nprsBefore"] = "6"; break;
            case "ndi-above-50": Opening()["baselineNdi"] = 51; break;
            case "odi-above-100": Opening()["baselineOdi"] = 100.5; break;
            case "outcome-ndi-fraction": AddOutcome("ndi", 12.5); break;
            case "outcome-odi-above-100": AddOutcome("odi", 101); break;
            case "outcome-psfs-above-10": AddOutcome("psfs", 10.5); break;
            case "outcome-groc-beyond-7": AddOutcome("global-rating-of-change", -8); break;
            case "session-in-future": Session()["sessionDate"] = Future; break;
            case "opening-before-2000": Opening()["openedOn"] = "1999-12-31"; break;
            case "bad-date-format": Session()["sessionDate"] = "03/11/2026"; break;
            case "both-onset-and-duration": Opening()["painOnsetDate"] = "2020-01-01"; break;
            case "onset-after-opening":
                Opening().Remove("painDurationWeeks");
                Opening()["painOnsetDate"] = Sample.Start.AddDays(1).ToString("yyyy-MM-dd");
                break;
            case "pseudonym-is-a-name": Opening()["patientPseudonym"] = "JaneDoe"; break;
            case "pseudonym-is-a-phone-number": Opening()["patientPseudonym"] = "5551234567"; break;
            case "pseudonym-is-an-email": Opening()["patientPseudonym"] = "jane1@example.org"; break;
            case "unknown-region": Opening()["region"] = "shoulder"; break;
            case "enum-as-number": Opening()["sex"] = 1; break;
            case "no-techniques": Session()["techniques"] = new JsonArray(); break;
            case "repeated-technique": Session()["techniques"] = new JsonArray("fascial-release", "fascial-release"); break;
            case "minutes-too-long": Session()["minutes"] = 600; break;
            case "unknown-event-type": Envelope(batch, 1)["type"] = "session-recorded.v9"; break;
            case "position-zero": Envelope(batch, 0)["position"] = 0; break;
            case "positions-not-consecutive": Envelope(batch, 1)["position"] = 3; break;
            case "empty-event-id": Envelope(batch, 1)["eventId"] = Guid.Empty.ToString(); break;
            case "malformed-event-id": Envelope(batch, 1)["eventId"] = "42"; break;
            case "event-id-twice": Envelope(batch, 1)["eventId"] = Envelope(batch, 0)["eventId"]!.GetValue<string>(); break;
            case "episode-twice": batch["episodes"]!.AsArray().Add(batch["episodes"]![0]!.DeepClone()); break;
            case "no-episodes": batch["episodes"] = new JsonArray(); break;
            case "null-required": Session()["format"] = null; break;
            case "duplicate-json-property":
                return batch.ToJsonString().Replace("\"minutes\":45", "\"minutes\":45,\"minutes\":50");
            default: throw new ArgumentException(name);
        }
        return batch.ToJsonString();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_batch_that_breaks_a_rule_is_refused_with_the_field_and_rule_named_and_stores_nothing(
        string @case, string field, string rule)
    {
        var clinic = PlatformFixture.NewClinic();
        var body = Mutate(@case, ValidBatch(out var episodeId));
        using var client = platform.Client(platform.ClinicToken(clinic));

        var response = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(body));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var errors = problem.RootElement.GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("field").GetString(), e.GetProperty("rule").GetString())).ToList();
        Assert.Contains((field, rule), errors);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/clinics/{clinic}/episodes/{episodeId}/events")).StatusCode);
    }

    [Fact]
    public async Task The_same_batch_without_the_mutation_is_accepted()
    {
        // Guards the theory above: its failures come from each mutation, not from the base batch.
        var clinic = PlatformFixture.NewClinic();
        using var client = platform.Client(platform.ClinicToken(clinic));
        var response = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(ValidBatch(out _).ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_batch_over_the_event_limit_is_refused_whole()
    {
        var clinic = PlatformFixture.NewClinic();
        var episodes = Enumerable.Range(0, 101).Select(_ =>
            new EpisodeScript().Add(Sample.Opened(), Sample.Session(1), Sample.Session(2), Sample.Session(3), Sample.Session(4),
                Sample.Session(5), Sample.Session(6), Sample.Session(7), Sample.Session(8), Sample.Session(9))).ToList();
        using var client = platform.Client(platform.ClinicToken(clinic));

        var response = await client.PostAsync($"/api/clinics/{clinic}/events",
            PlatformFixture.Json(new PushBatch(episodes.Select(e => e.All()).ToList())));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"rule\":\"batch-size\"", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/clinics/{clinic}/episodes/{episodes[0].Id}/events")).StatusCode);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_is_refused_as_too_large()
    {
        var clinic = PlatformFixture.NewClinic();
        using var client = platform.Client(platform.ClinicToken(clinic));
        var body = "{\"episodes\":[" + new string(' ', (int)SyncLimits.MaxBodyBytes) + "]}";

        var response = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("batch-too-large", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Malformed_json_and_other_content_types_are_refused()
    {
        var clinic = PlatformFixture.NewClinic();
        using var client = platform.Client(platform.ClinicToken(clinic));

        var malformed = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json("{\"episodes\": [}"));
        var text = await client.PostAsync($"/api/clinics/{clinic}/events", new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("\"rule\":\"json\"", await malformed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
    }

    [Fact]
    public async Task A_body_with_thousands_of_errors_gets_a_small_answer_listing_the_first_hundred_and_a_count()
    {
        var clinic = PlatformFixture.NewClinic();
        using var client = platform.Client(platform.ClinicToken(clinic));
        var members = string.Join(",", Enumerable.Range(0, 100_000).Select(i => $"\"x{i}\":1"));
        var body = $"{{\"episodes\":[{{\"episodeId\":\"{Guid.NewGuid()}\",\"events\":[],{members}}}]}}";

        var response = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(body));

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(text.Length < 32 * 1024, $"the refusal is {text.Length} bytes");
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(FieldErrors.MaxListed, problem.RootElement.GetProperty("errors").GetArrayLength());
        Assert.Equal(FieldErrors.MaxCounted, problem.RootElement.GetProperty("errorCount").GetInt32());
        Assert.Equal("episodes[0].x0", problem.RootElement.GetProperty("errors")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_few_errors_are_all_listed_with_their_exact_count()
    {
        var clinic = PlatformFixture.NewClinic();
        using var client = platform.Client(platform.ClinicToken(clinic));
        var body = $"{{\"episodes\":[{{\"episodeId\":\"{Guid.NewGuid()}\",\"events\":[],\"name\":1,\"phone\":2}}]}}";

        var response = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(body));

        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, problem.RootElement.GetProperty("errors").GetArrayLength());
        Assert.Equal(2, problem.RootElement.GetProperty("errorCount").GetInt32());
    }

    public static TheoryData<string, string, string> EpisodeRuleCases() => new()
    {
        { "session-before-opening", "episodes[0].events[1].data.sessionDate", "not-before-opening" },
        { "first-event-not-opening", "episodes[0].events[0].type", "first-event" },
        { "session-after-discharge", "episodes[0].events[2].type", "episode-discharged" },
        { "follow-up-before-discharge", "episodes[0].events[1].type", "not-discharged" },
        { "void-unknown-event", "episodes[0].events[1].data.voidedEventId", "void-target" },
        { "opened-twice", "episodes[0].events[1].type", "already-opened" },
    };

    [Theory]
    [MemberData(nameof(EpisodeRuleCases))]
    public async Task A_batch_that_breaks_an_episode_rule_is_refused_whole_with_422_and_stores_nothing(string @case, string field, string rule)
    {
        var clinic = PlatformFixture.NewClinic();
        var episode = new EpisodeScript();
        _ = @case switch
        {
            "session-before-opening" => episode.Add(Sample.Opened(), Sample.Session(day: -3)),
            "first-event-not-opening" => episode.Add(Sample.Session()),
            "session-after-discharge" => episode.Add(Sample.Opened(), Sample.Discharged(5), Sample.Session(6)),
            "follow-up-before-discharge" => episode.Add(Sample.Opened(), new FollowUpRecorded(Sample.Start.AddDays(5), 6, 3)),
            "void-unknown-event" => episode.Add(Sample.Opened(), new EntryVoided(Guid.NewGuid(), VoidReason.EnteredInError)),
            "opened-twice" => episode.Add(Sample.Opened(), Sample.Opened()),
            _ => throw new ArgumentException(@case),
        };
        var innocent = new EpisodeScript().Add(Sample.Opened());
        using var client = platform.Client(platform.ClinicToken(clinic));

        var response = await client.PostAsync($"/api/clinics/{clinic}/events",
            PlatformFixture.Json(new PushBatch([episode.All(), innocent.All()])));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains($"\"field\":\"{field}\",\"rule\":\"{rule}\"", body);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/clinics/{clinic}/episodes/{innocent.Id}/events")).StatusCode);
    }

    [Fact]
    public async Task An_event_id_already_stored_in_another_episode_is_refused()
    {
        var clinic = PlatformFixture.NewClinic();
        var first = new EpisodeScript().Add(Sample.Opened());
        using var client = platform.Client(platform.ClinicToken(clinic));
        (await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(first.Batch()))).EnsureSuccessStatusCode();
        var second = new EpisodeScript();
        second.Events.Add(first.Events[0]);

        var response = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(second.Batch()));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("\"rule\":\"event-id-taken\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_event_id_another_clinic_holds_is_simply_new_to_this_clinic()
    {
        var (a, b) = (PlatformFixture.NewClinic(), PlatformFixture.NewClinic());
        var theirs = new EpisodeScript().Add(Sample.Opened(), Sample.Session());
        using var clientA = platform.Client(platform.ClinicToken(a));
        using var clientB = platform.Client(platform.ClinicToken(b));
        (await clientA.PostAsync($"/api/clinics/{a}/events", PlatformFixture.Json(theirs.Batch()))).EnsureSuccessStatusCode();
        // Clinic B reuses A's event ids (it would need the GUIDs, but must learn nothing from them).
        var ours = new EpisodeScript();
        ours.Events.Add(theirs.Events[0]);

        var response = await clientB.PostAsync($"/api/clinics/{b}/events", PlatformFixture.Json(ours.Batch()));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Contains("\"status\":\"appended\"", text);
        var stored = await clientB.GetFromJsonAsync<List<StoredEvent>>($"/api/clinics/{b}/episodes/{ours.Id}/events", ProtocolJson.Options);
        Assert.Equal([theirs.Events[0].EventId], stored!.Select(e => e.EventId));
        var original = await clientA.GetFromJsonAsync<List<StoredEvent>>($"/api/clinics/{a}/episodes/{theirs.Id}/events", ProtocolJson.Options);
        Assert.Equal(theirs.Events.Select(e => e.EventId), original!.Select(e => e.EventId));
        // The same id a second time in B is B's own duplicate, refused as before.
        var again = new EpisodeScript();
        again.Events.Add(theirs.Events[0]);
        var duplicate = await clientB.PostAsync($"/api/clinics/{b}/events", PlatformFixture.Json(again.Batch()));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, duplicate.StatusCode);
        // And the database, not only the check before it, keys uniqueness by clinic.
        await using var connection = new Npgsql.NpgsqlConnection(platform.ConnectionString);
        await connection.OpenAsync();
        await using var indexes = new Npgsql.NpgsqlCommand(
            "select indexdef from pg_indexes where schemaname = 'matoutcomes' and tablename = 'mt_events' and indexdef like 'CREATE UNIQUE%'", connection);
        var unique = new List<string>();
        await using (var reader = await indexes.ExecuteReaderAsync())
            while (await reader.ReadAsync()) unique.Add(reader.GetString(0));
        Assert.Contains(unique, d => d.EndsWith("(tenant_id, id)", StringComparison.Ordinal));
        Assert.DoesNotContain(unique, d => d.EndsWith("(id)", StringComparison.Ordinal));
    }
}

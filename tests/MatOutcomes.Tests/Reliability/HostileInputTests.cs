using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Dashboard;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace MatOutcomes.Tests.Reliability;

/// <summary>One platform on a real socket, with a clinic that holds an episode, for attacks to aim at.</summary>
public sealed class TargetFixture : IAsyncLifetime
{
    public KestrelPlatform Platform { get; private set; } = null!;
    public string Database { get; private set; } = "";
    public string Clinic { get; } = PlatformFixture.NewClinic();
    public string OtherClinic { get; } = PlatformFixture.NewClinic();
    public EpisodeScript Episode { get; } = new EpisodeScript().Add(Sample.Opened(patient: "P-7731"), Sample.Session(1));

    public async Task InitializeAsync()
    {
        Database = await TestCluster.NewDatabaseAsync(nameof(TargetFixture));
        Platform = await KestrelPlatform.StartAsync(Database);
        await Platform.PushAsync(Clinic, Episode);
        await Platform.PushAsync(OtherClinic, new EpisodeScript().Add(Sample.Opened(patient: "P-9911")));
    }

    public async Task DisposeAsync() => await Platform.DisposeAsync();

    public string Token(string role, params string[] clinics) => Platform.Token(role, clinics);

    /// <summary>What a request could have written: events, streams, episode read models, saved studies.</summary>
    public async Task<string> WrittenAsync()
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select (select count(*) from matoutcomes.mt_events) || '/' || (select count(*) from matoutcomes.mt_streams) || '/' || " +
            "(select count(*) from matoutcomes.mt_doc_episode) || '/' || (select count(*) from matoutcomes.mt_doc_savedstudy)", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    public static string ExpiredToken(TargetFixture target) =>
        target.Platform.Services.GetRequiredService<TokenIssuer>().Mint("old", Roles.Clinic, [target.Clinic], TimeSpan.FromMinutes(-5));

    /// <summary>Right claims, wrong key.</summary>
    public static string ForgedToken(TargetFixture target) =>
        new TokenIssuer(new ConfigurationBuilder().AddInMemoryCollection(
                [new("Auth:SigningKey", "an-attacker-key-of-thirty-two-bytes-or-more!")]).Build(), TimeProvider.System)
            .Mint("evil", Roles.Admin, [], TimeSpan.FromHours(1));
}

/// <summary>A corpus of hostile requests over every entry point (sync push and pull, the REST
/// study, GraphQL, the dashboard hub). Each must be refused cleanly, a 4xx with problem details
/// (GraphQL's own error body on its endpoint, a HubException on the hub), small, having written
/// nothing, and leaving the process healthy.</summary>
public class HostileInputTests(TargetFixture target) : IClassFixture<TargetFixture>
{
    private delegate Task<HttpResponseMessage> Attack(TargetFixture target, HttpClient http);

    private static readonly Dictionary<string, Attack> Http = Corpus();
    private static readonly Dictionary<string, Func<TargetFixture, HubConnection, Task>> Hub = HubCorpus();

    public static TheoryData<string> HttpCases() => new(Http.Keys);
    public static TheoryData<string> HubCases() => new(Hub.Keys);

    [Fact]
    public void The_corpus_holds_at_least_a_hundred_cases() => Assert.True(Http.Count + Hub.Count >= 100, $"{Http.Count + Hub.Count} cases");

    [Theory]
    [MemberData(nameof(HttpCases))]
    public async Task A_hostile_request_is_refused_cleanly_and_writes_nothing(string name)
    {
        var before = await target.WrittenAsync();
        using var http = new HttpClient { BaseAddress = target.Platform.Address, Timeout = TimeSpan.FromSeconds(30) };

        using var response = await Http[name](target, http);

        var body = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{name}: {status} {body[..Math.Min(body.Length, 400)]}");
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var graphql = response.RequestMessage!.RequestUri!.AbsolutePath.StartsWith("/graphql", StringComparison.Ordinal);
        Assert.True(mediaType == "application/problem+json" || (graphql && mediaType == "application/graphql-response+json" && JsonNode.Parse(body)?["errors"] is JsonArray),
            $"{name}: {status} answered as {mediaType}: {body[..Math.Min(body.Length, 400)]}");
        Assert.True(body.Length < 64 * 1024, $"{name}: a {body.Length}-byte refusal");
        Assert.Equal(before, await target.WrittenAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);
    }

    [Theory]
    [MemberData(nameof(HubCases))]
    public async Task A_hostile_hub_call_is_refused_with_a_hub_error_and_the_connection_lives_on(string name)
    {
        await using var hub = DashboardConnection.Build(target.Platform.Address, target.Token(Roles.Manager, target.Clinic));
        await hub.StartAsync();

        await Assert.ThrowsAsync<HubException>(() => Hub[name](target, hub));

        Assert.Equal(HubConnectionState.Connected, hub.State);
        Assert.Equal([target.Clinic], await hub.InvokeAsync<string[]>("Clinics"));
    }

    /// <summary>An admin may watch any clinic, so only the clinic-id rule stands between it and a
    /// group named for a near-duplicate id.</summary>
    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData(" ")]
    [InlineData("\u200B")]
    public async Task A_hub_watch_of_a_near_duplicate_clinic_id_is_refused_even_for_an_admin(string suffix)
    {
        await using var hub = DashboardConnection.Build(target.Platform.Address, target.Token(Roles.Admin));
        await hub.StartAsync();

        var refused = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<object>("Watch", target.Clinic + suffix));

        Assert.Contains("clinic id is not valid", refused.Message);
        Assert.Equal(HubConnectionState.Connected, hub.State);
    }

    private static Dictionary<string, Attack> Corpus()
    {
        var cases = new Dictionary<string, Attack>();
        string Valid(TargetFixture t) => new EpisodeScript().Add(Sample.Opened(), Sample.Session()).Batch() is var b
            ? System.Text.Json.JsonSerializer.Serialize(b, Contracts.ProtocolJson.Options) : "";
        // An envelope with one event whose JSON is <event>, for shape attacks.
        string OneEvent(string @event) => $$"""{"episodes":[{"episodeId":"{{Guid.NewGuid()}}","events":[{{@event}}]}]}""";
        string Opening(string dataMembers) =>
            OneEvent("{\"eventId\":\"" + Guid.NewGuid() + "\",\"position\":1,\"type\":\"episode-opened.v1\",\"data\":{" + dataMembers + "}}");
        var goodOpening = $"\"patientPseudonym\":\"{Sample.Patient("0001")}\",\"openedOn\":\"2026-10-01\",\"region\":\"low-back\",\"painDurationWeeks\":20," +
                          "\"occupation\":\"desk-stressful\",\"ageBand\":\"40-49\",\"sex\":\"female\",\"baselineNprs\":7,\"baselineOdi\":40";
        string With(string member, string value) => Opening(goodOpening.Replace($"\"{member}\":", $"\"{member}-was\":") + $",\"{member}\":{value}");

        void Push(string name, Func<TargetFixture, string> body, string contentType = "application/json", Func<TargetFixture, string>? token = null,
            Func<TargetFixture, string>? clinic = null) =>
            cases[$"push: {name}"] = (t, http) => Send(http, HttpMethod.Post, $"api/clinics/{(clinic ?? (x => x.Clinic))(t)}/events",
                (token ?? (x => x.Token(Roles.Clinic, x.Clinic)))(t), body(t), contentType);

        Push("no body", _ => "", contentType: "");
        Push("text/plain", _ => "{}", contentType: "text/plain");
        Push("xml", _ => "<episodes/>", contentType: "application/xml");
        Push("truncated JSON", _ => "{\"episodes\": [");
        Push("not JSON", _ => "episodes=1");
        Push("null", _ => "null");
        Push("array", _ => "[]");
        Push("string", _ => "\"episodes\"");
        Push("number", _ => "42");
        Push("empty object", _ => "{}");
        Push("episodes null", _ => "{\"episodes\":null}");
        Push("episodes object", _ => "{\"episodes\":{}}");
        Push("no episodes", _ => "{\"episodes\":[]}");
        Push("episode null", _ => "{\"episodes\":[null]}");
        Push("episode number", _ => "{\"episodes\":[1]}");
        Push("episode without events", _ => $"{{\"episodes\":[{{\"episodeId\":\"{Guid.NewGuid()}\"}}]}}");
        Push("events null", _ => $"{{\"episodes\":[{{\"episodeId\":\"{Guid.NewGuid()}\",\"events\":null}}]}}");
        Push("events string", _ => $"{{\"episodes\":[{{\"episodeId\":\"{Guid.NewGuid()}\",\"events\":\"x\"}}]}}");
        Push("episode id not a guid", _ => "{\"episodes\":[{\"episodeId\":\"1 OR 1=1\",\"events\":[]}]}");
        Push("event without id", _ => OneEvent("{\"position\":1,\"type\":\"episode-opened.v1\",\"data\":{}}"));
        Push("event id not a guid", _ => OneEvent("{\"eventId\":\"x\",\"position\":1,\"type\":\"episode-opened.v1\",\"data\":{}}"));
        Push("event id empty guid", _ => OneEvent($"{{\"eventId\":\"{Guid.Empty}\",\"position\":1,\"type\":\"episode-opened.v1\",\"data\":{{{goodOpening}}}}}"));
        Push("event id a number", _ => OneEvent("{\"eventId\":7,\"position\":1,\"type\":\"episode-opened.v1\",\"data\":{}}"));
        Push("position 0", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":0,\"type\":\"episode-opened.v1\",\"data\":{{{goodOpening}}}}}"));
        Push("position negative", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":-1,\"type\":\"episode-opened.v1\",\"data\":{{{goodOpening}}}}}"));
        Push("position huge", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":10000000000,\"type\":\"episode-opened.v1\",\"data\":{{{goodOpening}}}}}"));
        Push("position a string", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":\"1\",\"type\":\"episode-opened.v1\",\"data\":{{{goodOpening}}}}}"));
        Push("position fractional", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":1.5,\"type\":\"episode-opened.v1\",\"data\":{{{goodOpening}}}}}"));
        Push("position beyond a double", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":1e400,\"type\":\"episode-opened.v1\",\"data\":{{{goodOpening}}}}}"));
        Push("unknown type", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":1,\"type\":\"patient-registered.v1\",\"data\":{{}}}}"));
        Push("type null", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":1,\"type\":null,\"data\":{{}}}}"));
        Push("type a CLR name", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":1,\"type\":\"System.Diagnostics.Process, System\",\"data\":{{}}}}"));
        Push("data null", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":1,\"type\":\"episode-opened.v1\",\"data\":null}}"));
        Push("data an array", _ => OneEvent($"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":1,\"type\":\"episode-opened.v1\",\"data\":[]}}"));
        Push("a patient name", _ => Opening(goodOpening + ",\"patientName\":\"Jane Doe\""));
        Push("a birth date", _ => Opening(goodOpening + ",\"birthDate\":\"1970-01-01\""));
        Push("a phone number", _ => Opening(goodOpening + ",\"phone\":\"+44 20 7946 0000\""));
        Push("a $type member", _ => Opening(goodOpening + ",\"$type\":\"System.Object\""));
        Push("nprs 11", _ => With("baselineNprs", "11"));
        Push("nprs negative", _ => With("baselineNprs", "-1"));
        Push("nprs a string", _ => With("baselineNprs", "\"7\""));
        Push("nprs NaN", _ => With("baselineNprs", "NaN"));
        Push("impossible date", _ => With("openedOn", "\"2026-13-45\""));
        Push("date in the future", _ => With("openedOn", "\"2099-01-01\""));
        Push("date before 2000", _ => With("openedOn", "\"1899-01-01\""));
        Push("date with a time", _ => With("openedOn", "\"2026-10-01T00:00:00Z\""));
        Push("pseudonym a name", _ => With("patientPseudonym", "\"JaneDoe\""));
        Push("pseudonym like a phone number", _ => With("patientPseudonym", "\"07700900123\""));
        Push("pseudonym too long", _ => With("patientPseudonym", $"\"P{new string('1', 200)}\""));
        Push("pseudonym with markup", _ => With("patientPseudonym", "\"<script>alert(1)</script>\""));
        Push("pseudonym with SQL", _ => With("patientPseudonym", "\"P1'; drop table mt_events; --\""));
        Push("pseudonym a name and a birth date", _ => With("patientPseudonym", "\"Maria-Garcia-19850312\""));
        Push("pseudonym with a trailing newline", _ => With("patientPseudonym", "\"P-000231\\n\""));
        Push("a token with a trailing newline", _ => With("patientPseudonym", $"\"{Sample.Patient("0001")}\\n\""));
        Push("practitioner pseudonym with a trailing newline", _ => OneEvent(
            $"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":1,\"type\":\"episode-opened.v1\",\"data\":{{{goodOpening}}}}}," +
            $"{{\"eventId\":\"{Guid.NewGuid()}\",\"position\":2,\"type\":\"session-recorded.v1\",\"data\":{{\"sessionDate\":\"2026-10-02\"," +
            "\"practitionerPseudonym\":\"PR-07\\n\",\"format\":\"standalone-mat\",\"techniques\":[\"muscle-lengthening\"]," +
            "\"regionsTreated\":[\"low-back\"],\"minutes\":45,\"nprsBefore\":7,\"nprsAfter\":4}}"));
        Push("region unknown", _ => With("region", "\"knee\""));
        Push("region a number", _ => With("region", "3"));
        Push("duplicate member", _ => Opening(goodOpening + ",\"baselineNprs\":3"));
        Push("duplicate event ids", t =>
        {
            var id = Guid.NewGuid();
            var opening = "\"type\":\"episode-opened.v1\",\"data\":{" + goodOpening + "}";
            return OneEvent($"{{\"eventId\":\"{id}\",\"position\":1,{opening}}},{{\"eventId\":\"{id}\",\"position\":2,{opening}}}");
        });
        Push("duplicate episodes", t =>
        {
            var episode = new EpisodeScript().Add(Sample.Opened());
            return System.Text.Json.JsonSerializer.Serialize(new PushBatch([episode.All(), episode.All()]), Contracts.ProtocolJson.Options);
        });
        Push("positions not consecutive", _ =>
        {
            var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session(1), Sample.Session(2));
            return System.Text.Json.JsonSerializer.Serialize(new PushBatch([new EpisodeUpload(episode.Id, [episode.Events[0], episode.Events[2]])]), Contracts.ProtocolJson.Options);
        });
        Push("251 episodes", _ => System.Text.Json.JsonSerializer.Serialize(
            new PushBatch([.. Enumerable.Range(0, 251).Select(_ => new EpisodeScript().Add(Sample.Opened()).All())]), Contracts.ProtocolJson.Options));
        Push("1,001 events", _ => System.Text.Json.JsonSerializer.Serialize(
            new PushBatch([.. Enumerable.Range(0, 143).Select(_ => new EpisodeScript().Add(Sample.Opened(), Sample.Session(1), Sample.Session(2),
                Sample.Session(3), Sample.Session(4), Sample.Session(5), Sample.Session(6)).All())]), Contracts.ProtocolJson.Options));
        Push("body over 2 MiB", _ => "{\"episodes\":[" + new string(' ', 3 * 1024 * 1024) + "]}");
        Push("nested 200 deep", _ => new string('[', 200) + new string(']', 200));
        Push("nested objects 100 deep", _ => string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100));
        Push("150k unknown members", _ => $"{{\"episodes\":[{{\"episodeId\":\"{Guid.NewGuid()}\",\"events\":[],{string.Join(",", Enumerable.Range(0, 150_000).Select(i => $"\"x{i}\":1"))}}}]}}");
        Push("a million-element array", _ => "{\"episodes\":[" + string.Join(",", Enumerable.Repeat("0", 1_000_000)) + "]}");
        Push("a long string", _ => With("patientPseudonym", $"\"{new string('A', 1_500_000)}\""));
        Push("session before opening", _ => System.Text.Json.JsonSerializer.Serialize(
            new EpisodeScript().Add(Sample.Opened(), Sample.Session(day: -5)).Batch(), Contracts.ProtocolJson.Options));
        Push("first event not an opening", _ => System.Text.Json.JsonSerializer.Serialize(new EpisodeScript().Add(Sample.Session()).Batch(), Contracts.ProtocolJson.Options));
        Push("void of an unknown event", _ => System.Text.Json.JsonSerializer.Serialize(new EpisodeScript()
            .Add(Sample.Opened(), new Contracts.Episodes.EntryVoided(Guid.NewGuid(), Contracts.Episodes.VoidReason.EnteredInError)).Batch(), Contracts.ProtocolJson.Options));
        Push("invalid UTF-8", _ => "{\"episodes\":[\"\udc00\"]}");
        Push("route clinic id with path tricks", Valid, clinic: _ => "..%2F..%2Fadmin");
        Push("route clinic id upper case", Valid, clinic: _ => "CLINIC-01", token: t => t.Token(Roles.Admin));
        Push("route clinic id too long", Valid, clinic: _ => new string('a', 300), token: t => t.Token(Roles.Admin));
        Push("route clinic id with an encoded newline", Valid, clinic: _ => "clinic-01%0A", token: t => t.Token(Roles.Admin));
        Push("route clinic id with an encoded CR LF", Valid, clinic: t => t.Clinic + "%0D%0A");
        Push("route clinic id with a zero-width space", Valid, clinic: t => t.Clinic + "%E2%80%8B", token: t => t.Token(Roles.Admin));
        Push("route clinic id with a full-width digit", Valid, clinic: _ => "clinic-0%EF%BC%91", token: t => t.Token(Roles.Admin));
        Push("another clinic's route", Valid, clinic: t => t.OtherClinic);
        Push("no token", Valid, token: _ => "");
        Push("a garbage token", Valid, token: _ => "not.a.jwt");
        Push("an expired token", Valid, token: TargetFixture.ExpiredToken);
        Push("a token signed with another key", Valid, token: TargetFixture.ForgedToken);
        Push("an unsigned token", Valid, token: _ => "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.");
        Push("a researcher token", Valid, token: t => t.Token(Roles.Researcher));
        Push("a manager token for the clinic", Valid, token: t => t.Token(Roles.Manager, t.Clinic));
        cases["push: PUT"] = (t, http) => Send(http, HttpMethod.Put, $"api/clinics/{t.Clinic}/events", t.Token(Roles.Clinic, t.Clinic), Valid(t), "application/json");

        void Get(string name, Func<TargetFixture, string> path, Func<TargetFixture, string>? token = null) =>
            cases[$"get: {name}"] = (t, http) => Send(http, HttpMethod.Get, path(t), (token ?? (x => x.Token(Roles.Clinic, x.Clinic)))(t), null, null);

        Get("pull with a negative cursor", t => $"api/clinics/{t.Clinic}/events?after=-1");
        Get("pull with limit 0", t => $"api/clinics/{t.Clinic}/events?limit=0");
        Get("pull with a huge limit", t => $"api/clinics/{t.Clinic}/events?limit=100000000");
        Get("pull with a cursor that is not a number", t => $"api/clinics/{t.Clinic}/events?after=abc");
        Get("pull with an overflowing cursor", t => $"api/clinics/{t.Clinic}/events?after=99999999999999999999999");
        Get("pull with a limit in exponent form", t => $"api/clinics/{t.Clinic}/events?limit=1e3");
        Get("pull another clinic", t => $"api/clinics/{t.OtherClinic}/events");
        Get("pull as a researcher", t => $"api/clinics/{t.Clinic}/events", t => t.Token(Roles.Researcher));
        Get("pull without a token", t => $"api/clinics/{t.Clinic}/events", _ => "");
        Get("pull with a cursor and a newline", t => $"api/clinics/{t.Clinic}/events?after=0%0A");
        Get("pull under a clinic id with a newline", t => $"api/clinics/{t.Clinic}%0A/events", t => t.Token(Roles.Admin));
        Get("episode id with a newline", t => $"api/clinics/{t.Clinic}/episodes/{t.Episode.Id}%0A");
        Get("episode id not a guid", t => $"api/clinics/{t.Clinic}/episodes/not-a-guid/events");
        Get("unknown episode's events", t => $"api/clinics/{t.Clinic}/episodes/{Guid.NewGuid()}/events");
        Get("unknown episode", t => $"api/clinics/{t.Clinic}/episodes/{Guid.NewGuid()}");
        Get("another clinic's episode under its own route", t => $"api/clinics/{t.OtherClinic}/episodes/{t.Episode.Id}", t => t.Token(Roles.Clinic, t.OtherClinic));
        Get("a clinic's episode under another route", t => $"api/clinics/{t.OtherClinic}/episodes/{t.Episode.Id}/events", t => t.Token(Roles.Clinic, t.OtherClinic));
        Get("a path that does not exist", _ => "api/clinics");
        Get("projection status as a clinic", _ => "api/projections/outcomes");

        void Study(string name, string body, string query = "", Func<TargetFixture, string>? token = null, string contentType = "application/json") =>
            cases[$"study: {name}"] = (t, http) => Send(http, HttpMethod.Post, "api/studies/cohort-comparison" + query,
                (token ?? (x => x.Token(Roles.Researcher)))(t), body, contentType);

        Study("truncated JSON", "{\"regions\":[");
        Study("an array", "[]");
        Study("an unknown member", "{\"patientPseudonym\":\"P-0001\"}");
        Study("an unknown region", "{\"regions\":[\"mars\"]}");
        Study("a threshold not offered", "{\"chronicFromWeeks\":7}");
        Study("a month off a quarter", "{\"fromMonth\":\"2026-02\"}");
        Study("a month that is not a month", "{\"fromMonth\":\"yesterday\"}");
        Study("a negative MCID", "{\"nprsMcidPoints\":-3}");
        Study("a negative asOf", "{}", "?asOf=-5");
        Study("an asOf that is not a number", "{}", "?asOf=abc");
        Study("an asOf beyond the read models", "{}", "?asOf=9000000000000000000");
        Study("a clinic token", "{}", token: t => t.Token(Roles.Clinic, t.Clinic));
        Study("a manager token", "{}", token: t => t.Token(Roles.Manager, t.Clinic));
        Study("no token", "{}", token: _ => "");
        Study("a forged admin token", "{}", token: TargetFixture.ForgedToken);
        Study("a 3 MB filter", "{\"regions\":[" + string.Join(",", Enumerable.Repeat("\"neck\"", 400_000)) + "]}");

        // The modern media type, under which request errors are 4xx (legacy application/json answers them 200, as the spec says).
        void GraphQL(string name, string body, Func<TargetFixture, string>? token = null, string contentType = "application/json",
            string accept = "application/graphql-response+json") =>
            cases[$"graphql: {name}"] = (t, http) => Send(http, HttpMethod.Post, "graphql", (token ?? (x => x.Token(Roles.Researcher)))(t), body, contentType, accept);
        string Query(string document) => System.Text.Json.JsonSerializer.Serialize(new { query = document });

        GraphQL("empty body", "");
        GraphQL("not JSON", "query { clinics { id } }");
        GraphQL("a batch", "[" + Query("{ __typename }") + "]");
        GraphQL("no query", "{\"variables\":{}}");
        GraphQL("a syntax error", Query("{ clinics { id "));
        GraphQL("an unknown field", Query("{ patients { name } }"));
        GraphQL("a fragment fan-out", Query(CostBoundTests.FanOut("clinics { id episodes }")));
        GraphQL("a fragment cycle", Query("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"));
        GraphQL("too deep", Query("{ __schema { types { fields { type { " + string.Concat(Enumerable.Repeat("ofType { ", 14)) + "name" + new string('}', 14) + " } } } } }"));
        GraphQL("60 asOf values", Query("{ " + string.Join(" ", Enumerable.Range(1, 60).Select(i => $"a{i}: cohortComparison(asOf: {i}) {{ sequence }}")) + " }"));
        GraphQL("6,000 aliases", Query("{ " + string.Join(" ", Enumerable.Range(0, 6000).Select(i => $"a{i}: __typename")) + " }"));
        GraphQL("a variable of the wrong type", System.Text.Json.JsonSerializer.Serialize(new { query = "query($n: Int!) { episodes(first: $n) { totalCount } }", variables = new { n = "many" } }));
        GraphQL("a missing operation", System.Text.Json.JsonSerializer.Serialize(new { query = "query A { __typename }", operationName = "B" }));
        GraphQL("an argument of the wrong type", Query("{ __type(name: 1) { name } }"));
        GraphQL("text/plain", Query("{ __typename }"), contentType: "text/plain");
        GraphQL("a body over 64 KiB", Query("{ __typename }" + new string(' ', 70_000)));
        GraphQL("an Accept it cannot meet", Query("{ __typename }"), accept: "text/html");
        GraphQL("a clinic token", Query("{ clinics { id } }"), token: t => t.Token(Roles.Clinic, t.Clinic));
        GraphQL("no token", Query("{ clinics { id } }"), token: _ => "");
        GraphQL("an expired token", Query("{ clinics { id } }"), token: TargetFixture.ExpiredToken);
        cases["graphql: a mutation over GET"] = (t, http) => Send(http, HttpMethod.Get,
            "graphql?query=" + Uri.EscapeDataString("mutation { saveStudy(name: \"x\", filter: {}) { name } }"), t.Token(Roles.Researcher), null, null,
            "application/graphql-response+json");
        cases["graphql: a query string over 64 KiB"] = (t, http) => Send(http, HttpMethod.Get,
            "graphql?query=" + Uri.EscapeDataString("{ __typename } #" + new string('a', 70_000)), t.Token(Roles.Researcher), null, null,
            "application/graphql-response+json");
        cases["graphql: the schema without a token"] = (t, http) => Send(http, HttpMethod.Get, "graphql/schema.graphql", "", null, null);

        cases["hub: negotiate without a token"] = (t, http) => Send(http, HttpMethod.Post, "hubs/dashboard/negotiate?negotiateVersion=1", "", "", null);
        cases["hub: negotiate with a clinic token"] = (t, http) => Send(http, HttpMethod.Post, "hubs/dashboard/negotiate?negotiateVersion=1", t.Token(Roles.Clinic, t.Clinic), "", null);
        cases["hub: negotiate with a researcher token"] = (t, http) => Send(http, HttpMethod.Post, "hubs/dashboard/negotiate?negotiateVersion=1", t.Token(Roles.Researcher), "", null);
        cases["hub: negotiate with a forged token"] = (t, http) => Send(http, HttpMethod.Post, "hubs/dashboard/negotiate?negotiateVersion=1", TargetFixture.ForgedToken(t), "", null);
        return cases;
    }

    private static Dictionary<string, Func<TargetFixture, HubConnection, Task>> HubCorpus() => new()
    {
        ["watch: no clinic"] = (_, hub) => hub.InvokeAsync<object>("Watch", (string?)null),
        ["watch: path tricks"] = (_, hub) => hub.InvokeAsync<object>("Watch", "../../etc/passwd"),
        ["watch: another clinic"] = (t, hub) => hub.InvokeAsync<object>("Watch", t.OtherClinic),
        ["watch: its clinic with a trailing newline"] = (t, hub) => hub.InvokeAsync<object>("Watch", t.Clinic + "\n"),
        ["watch: its clinic with a zero-width space"] = (t, hub) => hub.InvokeAsync<object>("Watch", t.Clinic + "\u200B"),
        ["watch: its clinic in full-width letters"] = (t, hub) => hub.InvokeAsync<object>("Watch", string.Concat(t.Clinic.Select(c => (char)(c + 0xFEE0)))),
        ["watch: a 10,000-character id"] = (_, hub) => hub.InvokeAsync<object>("Watch", new string('a', 10_000)),
        ["watch: a number"] = (_, hub) => hub.InvokeAsync<object>("Watch", 42),
        ["watch: two arguments"] = (t, hub) => hub.InvokeAsync<object>("Watch", t.Clinic, t.OtherClinic),
        ["call: a method that does not exist"] = (_, hub) => hub.InvokeAsync<object>("DropDatabase"),
        ["call: a method of the base class"] = (_, hub) => hub.InvokeAsync<object>("OnConnectedAsync"),
    };

    private static Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string token, string? body,
        string? contentType, string? accept = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token.Length > 0) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        if (body is not null)
        {
            // A lone surrogate in a case's text stands for bytes that are not UTF-8 at all.
            var parts = body.Split('\udc00').Select(Encoding.UTF8.GetBytes).ToArray();
            request.Content = new ByteArrayContent([.. parts[0], .. parts.Skip(1).SelectMany(p => (byte[])[0xff, 0xfe, .. p])]);
            if (!string.IsNullOrEmpty(contentType)) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        return http.SendAsync(request);
    }
}

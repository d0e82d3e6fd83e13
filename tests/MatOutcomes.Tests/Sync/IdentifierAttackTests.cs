using System.Net;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Gateway;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace MatOutcomes.Tests.Sync;

/// <summary>No identifier enters the permanent store (issue 9, point 4): every way a name, a date
/// or a near-duplicate id was stored, or could be, through the real HTTP surface against real
/// PostgreSQL. Each is refused with a problem naming the field or parameter and its rule, and the
/// event log is unchanged.</summary>
public class IdentifierAttackTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    private static readonly string Token = Sample.Patient("000231");

    public static TheoryData<string, string, string> BodyCases() => new()
    {
        // case, member of the opening (patient) or of the session (practitioner), value
        { "a name and a birth date", "patientPseudonym", "Maria-Garcia-19850312" },
        { "a record number with a trailing newline", "patientPseudonym", "P-000231\n" },
        { "a practitioner code with a trailing newline", "practitionerPseudonym", "PR-07\n" },
        { "the old code format", "patientPseudonym", "P-000231" },
        { "the old practitioner format", "practitionerPseudonym", "PR-07" },
        { "a token with a trailing newline", "patientPseudonym", Token + "\n" },
        { "a token with a trailing CR LF", "patientPseudonym", Token + "\r\n" },
        { "a token with a trailing space", "patientPseudonym", Token + " " },
        { "a token with a zero-width space", "patientPseudonym", Token[..9] + "\u200B" + Token[9..] },
        { "a token with a byte-order mark", "patientPseudonym", "\uFEFF" + Token },
        { "a token with full-width letters", "patientPseudonym", string.Concat(Token.Select(c => (char)(c + 0xFEE0))) },
        { "a token with a Cyrillic P", "patientPseudonym", "\u0420" + Token[1..] },
        { "a token in lower case", "patientPseudonym", Token.ToLowerInvariant() },
        { "a token with one character mistyped", "patientPseudonym", Token[..5] + (Token[5] == 'Z' ? 'Y' : 'Z') + Token[6..] },
        { "a practitioner token for a patient", "patientPseudonym", Sample.Practitioner("07") },
        { "a patient token for a practitioner", "practitionerPseudonym", Token },
        { "a phone number", "patientPseudonym", "07700900123" },
        { "an e-mail address", "patientPseudonym", "jane1@example.org" },
    };

    [Theory]
    [MemberData(nameof(BodyCases))]
    public async Task A_pseudonym_that_is_not_the_token_is_refused_by_field_and_rule_and_nothing_is_stored(string @case, string member, string value)
    {
        var clinic = PlatformFixture.NewClinic();
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session());
        var batch = JsonNode.Parse(JsonSerializer.Serialize(episode.Batch(), ProtocolJson.Options))!;
        var index = member == "patientPseudonym" ? 0 : 1;
        batch["episodes"]![0]!["events"]![index]!["data"]![member] = value;
        var before = await StoredAsync();

        using var client = platform.Client(platform.ClinicToken(clinic));
        var response = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(batch.ToJsonString()));

        var errors = await ProblemErrorsAsync(response, HttpStatusCode.BadRequest, @case);
        var error = Assert.Single(errors);
        Assert.Equal(($"episodes[0].events[{index}].data.{member}", "pseudonym-format"), (error.Field, error.Rule));
        Assert.Contains("HMAC-SHA256", error.Message);
        Assert.DoesNotContain(value.Trim(), error.Message);
        Assert.Equal(before, await StoredAsync());
    }

    [Fact]
    public async Task The_same_batch_with_tokens_made_by_the_reference_implementation_is_stored()
    {
        var clinic = PlatformFixture.NewClinic();
        using var client = platform.Client(platform.ClinicToken(clinic));
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session());

        var response = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(episode.Batch()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Pseudonyms.IsValid(Sample.Opened().PatientPseudonym, PseudonymKind.Patient));
    }

    public static TheoryData<string, string> NearDuplicateClinics() => new()
    {
        // case, the clinic id as it is written in the URL (percent-encoded)
        { "a trailing newline", "{0}%0A" },
        { "a trailing CR LF", "{0}%0D%0A" },
        { "a trailing space", "{0}%20" },
        { "a trailing tab", "{0}%09" },
        { "a zero-width space", "{0}%E2%80%8B" },
        { "a byte-order mark", "%EF%BB%BF{0}" },
        { "a no-break space", "{0}%C2%A0" },
        { "a full-width digit", "{0}%EF%BC%91" },
        { "a Cyrillic c for the first letter", "%D1%81{1}" },
        { "upper case", "{2}" },
    };

    private static string Spelled(string pattern, string clinic) => string.Format(pattern, clinic, clinic[1..], clinic.ToUpperInvariant());

    [Theory]
    [MemberData(nameof(NearDuplicateClinics))]
    public async Task A_push_to_a_near_duplicate_clinic_id_is_refused_by_parameter_and_no_clinic_is_created(string @case, string pattern)
    {
        var clinic = PlatformFixture.NewClinic();
        var before = await StoredAsync();

        foreach (var token in new[] { platform.Token(Roles.Admin), platform.ClinicToken(clinic) })
        {
            using var client = platform.Client(token);
            var response = await client.PostAsync($"/api/clinics/{Spelled(pattern, clinic)}/events",
                PlatformFixture.Json(new EpisodeScript().Add(Sample.Opened()).Batch()));

            var error = Assert.Single(await ProblemErrorsAsync(response, HttpStatusCode.BadRequest, @case));
            Assert.Equal(("clinicId", "clinic-id"), (error.Field, error.Rule));
        }
        Assert.Equal(before, await StoredAsync());
        Assert.Empty(await InvalidClinicsAsync());
    }

    [Theory]
    [MemberData(nameof(NearDuplicateClinics))]
    public async Task Every_read_under_a_near_duplicate_clinic_id_is_refused_by_parameter(string @case, string pattern)
    {
        var (clinic, episode) = await StoredEpisodeAsync();
        var spelled = Spelled(pattern, clinic);
        using var client = platform.Client(platform.Token(Roles.Admin));

        foreach (var path in new[] { $"events", $"episodes/{episode}", $"episodes/{episode}/events" })
        {
            var response = await client.GetAsync($"/api/clinics/{spelled}/{path}");
            var error = Assert.Single(await ProblemErrorsAsync(response, HttpStatusCode.BadRequest, $"{@case}: {path}"));
            Assert.Equal(("clinicId", "clinic-id"), (error.Field, error.Rule));
        }
    }

    [Fact]
    public async Task The_issue_case_clinic_01_with_an_encoded_newline_is_refused_and_no_clinic_is_listed()
    {
        var before = await StoredAsync();
        using var admin = platform.Client(platform.Token(Roles.Admin));

        var response = await admin.PostAsync("/api/clinics/clinic-01%0A/events", PlatformFixture.Json(new EpisodeScript().Add(Sample.Opened()).Batch()));

        Assert.Equal(("clinicId", "clinic-id"), Assert.Single(await ProblemErrorsAsync(response, HttpStatusCode.BadRequest, "clinic-01%0A")) is var e ? (e.Field, e.Rule) : default);
        Assert.Equal(before, await StoredAsync());
        Assert.Empty(await InvalidClinicsAsync());
        var listed = await new GraphQLClient(platform.Client(platform.Token(Roles.Researcher))).PostAsync("{ clinics { id } }");
        Assert.DoesNotContain(listed.Data["clinics"]!.AsArray(), c => c!["id"]!.GetValue<string>().StartsWith("clinic-01", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_clinic_claim_never_matches_a_near_duplicate_of_its_id_either_way()
    {
        var (clinic, episode) = await StoredEpisodeAsync();

        // The token names the clinic; the route carries a newline after it.
        using (var client = platform.Client(platform.ClinicToken(clinic)))
            Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/clinics/{clinic}%0A/episodes/{episode}")).StatusCode);

        // The token (signed with the platform's own key) names the clinic with a newline after it.
        using (var client = platform.Client(SignedWithClaims(clinic + "\n", clinic + "\u200B", clinic.ToUpperInvariant())))
        {
            var response = await client.GetAsync($"/api/clinics/{clinic}/episodes/{episode}");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/clinics/{clinic}%0A/episodes/{episode}")).StatusCode);
        }

        // And the platform will not mint such a token.
        var issuer = platform.Host.Services.GetRequiredService<TokenIssuer>();
        Assert.Throws<ArgumentException>(() => issuer.Mint("x", Roles.Clinic, [clinic + "\n"], TimeSpan.FromMinutes(5)));
    }

    public static TheoryData<string, string> NearDuplicateEpisodeIds() => new()
    {
        { "a trailing newline", "{0}%0A" },
        { "a trailing CR LF", "{0}%0D%0A" },
        { "a leading space", "%20{0}" },
        { "a zero-width space", "{0}%E2%80%8B" },
        { "braces", "%7B{0}%7D" },
        { "no hyphens", "{1}" },
        { "not a GUID", "not-a-guid" },
        { "the empty GUID", "00000000-0000-0000-0000-000000000000" },
    };

    [Theory]
    [MemberData(nameof(NearDuplicateEpisodeIds))]
    public async Task An_episode_id_in_the_route_is_held_to_the_body_s_spelling(string @case, string pattern)
    {
        var (clinic, episode) = await StoredEpisodeAsync();
        var spelled = string.Format(pattern, episode, episode.ToString("N"));
        using var client = platform.Client(platform.ClinicToken(clinic));

        foreach (var path in new[] { $"episodes/{spelled}", $"episodes/{spelled}/events" })
        {
            var response = await client.GetAsync($"/api/clinics/{clinic}/{path}");
            var error = Assert.Single(await ProblemErrorsAsync(response, HttpStatusCode.BadRequest, $"{@case}: {path}"));
            Assert.Equal("episodeId", error.Field);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/clinics/{clinic}/episodes/{episode}")).StatusCode);
    }

    [Theory]
    [InlineData("after", "5%0A")]
    [InlineData("after", "5%0D%0A")]
    [InlineData("after", "%205")]
    [InlineData("after", "%2B5")]
    [InlineData("after", "05")]
    [InlineData("after", "-1")]
    [InlineData("after", "%EF%BC%95")]
    [InlineData("after", "5%E2%80%8B")]
    [InlineData("limit", "10%0A")]
    [InlineData("limit", "%EF%BC%91%EF%BC%90")]
    public async Task A_pull_cursor_or_limit_is_held_to_digits_only(string parameter, string value)
    {
        var (clinic, _) = await StoredEpisodeAsync();
        using var client = platform.Client(platform.ClinicToken(clinic));

        var response = await client.GetAsync($"/api/clinics/{clinic}/events?{parameter}={value}");

        Assert.Equal(parameter, Assert.Single(await ProblemErrorsAsync(response, HttpStatusCode.BadRequest, value)).Field);
    }

    /// <summary>A lenient asOf once escaped the replay budget: the handler read "0\n" as 0 while
    /// the budget, parsing strictly, did not charge it.</summary>
    [Theory]
    [InlineData("0%0A")]
    [InlineData("%200")]
    [InlineData("%2B0")]
    [InlineData("00")]
    [InlineData("%EF%BC%90")]
    public async Task A_study_asOf_is_held_to_digits_only(string value)
    {
        using var researcher = platform.Client(platform.Token(Roles.Researcher));

        var response = await researcher.PostAsync($"/api/studies/cohort-comparison?asOf={value}", PlatformFixture.Json("{}"));

        Assert.Equal(("asOf", "integer"), Assert.Single(await ProblemErrorsAsync(response, HttpStatusCode.BadRequest, value)) is var e ? (e.Field, e.Rule) : default);
    }

    [Fact]
    public async Task A_study_filter_naming_a_near_duplicate_clinic_is_refused_over_rest_and_graphql()
    {
        var (clinic, _) = await StoredEpisodeAsync();
        using var researcher = platform.Client(platform.Token(Roles.Researcher));
        var graphql = new GraphQLClient(researcher);

        var rest = await researcher.PostAsync("/api/studies/cohort-comparison",
            PlatformFixture.Json(JsonSerializer.Serialize(new { clinics = new[] { clinic, clinic + "\n" } })));
        Assert.Equal(("clinics[1]", "clinic-id"), Assert.Single(await ProblemErrorsAsync(rest, HttpStatusCode.BadRequest, "REST study")) is var e ? (e.Field, e.Rule) : default);

        foreach (var (field, query) in new[]
                 {
                     ("cohortComparison", "query($c: [String!]) { cohortComparison(filter: { clinics: $c }) { sequence } }"),
                     ("episodes", "query($c: [String!]) { episodes(filter: { clinics: $c }) { totalCount } }"),
                 })
        {
            var reply = await graphql.PostAsync(query, new { c = new[] { clinic + "\u200B" } });
            Assert.True(reply.Errors is { Count: > 0 }, $"{field}: {reply.Text}");
            Assert.Contains("filter.clinics[0]", reply.Text);
            Assert.Contains("clinic-id", reply.Text);
        }
    }

    private async Task<(string Clinic, Guid Episode)> StoredEpisodeAsync()
    {
        var clinic = PlatformFixture.NewClinic();
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session());
        using var client = platform.Client(platform.ClinicToken(clinic));
        (await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(episode.Batch()))).EnsureSuccessStatusCode();
        return (clinic, episode.Id);
    }

    private string SignedWithClaims(params string[] clinics)
    {
        var issuer = platform.Host.Services.GetRequiredService<TokenIssuer>();
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = TokenIssuer.Issuer,
            Audience = TokenIssuer.Audience,
            Subject = new ClaimsIdentity([new Claim("sub", "near-duplicate")]),
            Claims = new Dictionary<string, object> { [PlatformClaims.Role] = Roles.Clinic, [PlatformClaims.Clinic] = clinics },
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(issuer.Key, SecurityAlgorithms.HmacSha256),
        });
    }

    private static async Task<List<FieldError>> ProblemErrorsAsync(HttpResponseMessage response, HttpStatusCode status, string @case)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{@case}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.GetProperty("errors").Deserialize<List<FieldError>>(ProtocolJson.Options)!;
    }

    /// <summary>Everything the event store holds: events, streams and the clinics they belong to.</summary>
    private async Task<string> StoredAsync()
    {
        await using var connection = new NpgsqlConnection(platform.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select (select count(*) from matoutcomes.mt_events) || '/' || (select count(*) from matoutcomes.mt_streams) || '/' || " +
            "(select count(distinct tenant_id) from matoutcomes.mt_events)", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Stored clinic ids that break the clinic-id rule (escaped): there must never be any.</summary>
    private async Task<List<string>> InvalidClinicsAsync()
    {
        await using var connection = new NpgsqlConnection(platform.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select distinct tenant_id from matoutcomes.mt_events", connection);
        var found = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            if (!Identifiers.IsClinicId(reader.GetString(0))) found.Add(Identifiers.Escaped(reader.GetString(0)));
        return found;
    }
}

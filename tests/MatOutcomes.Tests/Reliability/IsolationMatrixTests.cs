using System.Net;
using System.Net.Http.Headers;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Dashboard;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace MatOutcomes.Tests.Reliability;

/// <summary>Every endpoint, asked by every kind of principal about clinic A's data (A's route, A's
/// episode id, A's event ids). Only A's own clinic token and admins reach A's records; researchers
/// get aggregates that name no record of A; managers reach A only through the hub and only when the
/// token names A; nobody learns anything through another clinic's route.</summary>
public class IsolationMatrixTests(TargetFixture target) : IClassFixture<TargetFixture>
{
    public static readonly string[] Principals =
        ["none", "forged admin", "expired clinic A", "clinic A", "clinic B", "manager A", "manager B", "researcher", "admin"];

    private string? TokenFor(string principal) => principal switch
    {
        "none" => null,
        "forged admin" => TargetFixture.ForgedToken(target),
        "expired clinic A" => TargetFixture.ExpiredToken(target),
        "clinic A" => target.Token(Roles.Clinic, target.Clinic),
        "clinic B" => target.Token(Roles.Clinic, target.OtherClinic),
        "manager A" => target.Token(Roles.Manager, target.Clinic),
        "manager B" => target.Token(Roles.Manager, target.OtherClinic),
        "researcher" => target.Token(Roles.Researcher),
        "admin" => target.Token(Roles.Admin),
        _ => throw new ArgumentException(principal),
    };

    private sealed record Endpoint(string Name, Func<TargetFixture, HttpRequestMessage> Request, string[] Allowed, bool CarriesRecords);

    private static readonly string[] OwnersOnly = ["clinic A", "admin"];
    private static readonly string[] Analysts = ["researcher", "admin"];

    private static readonly Endpoint[] Endpoints =
    [
        new("push to A", t => Post($"api/clinics/{t.Clinic}/events", new EpisodeScript().Add(Sample.Opened()).Batch()), OwnersOnly, false),
        new("re-send A's events to A", t => Post($"api/clinics/{t.Clinic}/events", t.Episode.Batch()), OwnersOnly, true),
        new("pull A", t => Get($"api/clinics/{t.Clinic}/events"), OwnersOnly, true),
        new("A's episode stream", t => Get($"api/clinics/{t.Clinic}/episodes/{t.Episode.Id}/events"), OwnersOnly, true),
        new("A's episode", t => Get($"api/clinics/{t.Clinic}/episodes/{t.Episode.Id}"), OwnersOnly, true),
        // Allowed on B's route for B's owners, but A's episode is simply not there.
        new("A's episode under B's route", t => Get($"api/clinics/{t.OtherClinic}/episodes/{t.Episode.Id}"), [], true),
        new("A's stream under B's route", t => Get($"api/clinics/{t.OtherClinic}/episodes/{t.Episode.Id}/events"), [], true),
        // A's event ids in an episode of B's: new ids to B, stored for B, and the answer says nothing of A.
        new("A's event ids sent to B's route", t => Post($"api/clinics/{t.OtherClinic}/events",
            new MatOutcomes.Contracts.Sync.PushBatch([new(Guid.NewGuid(), t.Episode.Events)])), ["clinic B", "admin"], false),
        new("study of clinic A", t => Post("api/studies/cohort-comparison", new { clinics = new[] { t.Clinic } }), Analysts, false),
        new("projection status", _ => Get("api/projections/outcomes"), Analysts, false),
        new("GraphQL clinics and episodes", _ => Post("graphql", new { query = "{ clinics { id episodes } episodes { edges { node { clinic cohort } } } }" }), Analysts, false),
        new("GraphQL schema", _ => Get("graphql/schema.graphql"), Analysts, false),
    ];

    public static TheoryData<string> EndpointNames() => new(Endpoints.Select(e => e.Name));

    [Theory]
    [MemberData(nameof(EndpointNames))]
    public async Task Every_principal_gets_exactly_what_its_role_and_clinics_allow(string endpointName)
    {
        var endpoint = Endpoints.Single(e => e.Name == endpointName);
        var wrong = new List<string>();
        using var http = new HttpClient { BaseAddress = target.Platform.Address };
        foreach (var principal in Principals)
        {
            using var request = endpoint.Request(target);
            if (TokenFor(principal) is { } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            var allowed = endpoint.Allowed.Contains(principal);
            var expected =
                // Clinic B stored them a moment earlier: for the admin acting for B they are B's own duplicates.
                endpoint.Name.StartsWith("A's event ids", StringComparison.Ordinal) && principal is "admin" ? "422"
                : allowed ? "2xx"
                : principal is "none" or "forged admin" or "expired clinic A" ? "401"
                : endpoint.Name.Contains("under B's route") && principal is "clinic B" ? "404"
                : endpoint.Name.Contains("under B's route") && principal is "admin" ? "404"
                : "403";
            var got = status is >= 200 and < 300 ? "2xx" : status.ToString();
            if (got != expected) wrong.Add($"{principal}: expected {expected}, got {status} {body[..Math.Min(200, body.Length)]}");
            // Nobody but A's owners may see a trace of A's records: ids or the pseudonym.
            if (got == "404")
            {
                // Not found must read exactly as for an id no clinic ever used (it echoes the id asked for).
                var unknown = Guid.NewGuid();
                using var probe = endpoint.Request(target);
                probe.RequestUri = new Uri(probe.RequestUri!.OriginalString.Replace(target.Episode.Id.ToString(), unknown.ToString()), UriKind.Relative);
                probe.Headers.Authorization = request.Headers.Authorization;
                using var baseline = await http.SendAsync(probe);
                var expectedBody = (await baseline.Content.ReadAsStringAsync()).Replace(unknown.ToString(), target.Episode.Id.ToString());
                if (baseline.StatusCode != response.StatusCode || WithoutTraceId(expectedBody) != WithoutTraceId(body))
                    wrong.Add($"{principal}: A's id is answered unlike an unknown one: {body} / {expectedBody}");
            }
            else if (!OwnersOnly.Contains(principal) || !endpoint.CarriesRecords)
                foreach (var secret in Secrets())
                    if (body.Contains(secret, StringComparison.OrdinalIgnoreCase))
                        wrong.Add($"{principal}: the answer holds {secret}");
        }
        Assert.True(wrong.Count == 0, $"{endpoint.Name}:\n{string.Join("\n", wrong)}");
    }

    [Theory]
    [InlineData("manager A", true)]
    [InlineData("admin", true)]
    [InlineData("manager B", false)]
    public async Task Only_managers_of_A_and_admins_may_watch_A_on_the_hub(string principal, bool allowed)
    {
        await using var hub = DashboardConnection.Build(target.Platform.Address, TokenFor(principal));
        await hub.StartAsync();
        var watch = hub.InvokeAsync<object>("Watch", target.Clinic);
        if (allowed) await watch;
        else await Assert.ThrowsAsync<HubException>(() => watch);
    }

    [Theory]
    [InlineData("none", HttpStatusCode.Unauthorized)]
    [InlineData("forged admin", HttpStatusCode.Unauthorized)]
    [InlineData("clinic A", HttpStatusCode.Forbidden)]
    [InlineData("researcher", HttpStatusCode.Forbidden)]
    public async Task Other_roles_cannot_open_the_hub(string principal, HttpStatusCode expected)
    {
        using var http = new HttpClient { BaseAddress = target.Platform.Address };
        using var request = Post("hubs/dashboard/negotiate?negotiateVersion=1", new { });
        if (TokenFor(principal) is { } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(expected, (await http.SendAsync(request)).StatusCode);
    }

    private static string WithoutTraceId(string body) => System.Text.RegularExpressions.Regex.Replace(body, "\"traceId\":\"[^\"]*\"", "");

    private IEnumerable<string> Secrets() =>
        [target.Episode.Id.ToString(), Sample.Patient("P-7731"), .. target.Episode.Events.Select(e => e.EventId.ToString())];

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage Post(string path, object body) => new(HttpMethod.Post, path) { Content = PlatformFixture.Json(body) };
}

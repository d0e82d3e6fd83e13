using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Gateway;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace MatOutcomes.Tests.Reliability;

/// <summary>A small network behind a gateway with small budgets, so each bound is reached in a few requests.</summary>
public sealed class SmallBudgetsFixture : NetworkFixture
{
    public const int PermitLimit = 12;
    public const int AsOfPerRequest = 3;
    public const int AsOfPerToken = 5;

    protected override NetworkOptions Options => new()
        { Clinics = 2, Episodes = 80, Seed = 5, Months = 4, Today = new DateOnly(2026, 11, 1) };

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Gateway:RateLimit:PermitLimit", PermitLimit.ToString());
        builder.UseSetting("Gateway:Replays:PerRequest", AsOfPerRequest.ToString());
        builder.UseSetting("Gateway:Replays:PerToken", AsOfPerToken.ToString());
    }

    public HttpClient ResearcherClient(string subject) =>
        Client(Host.Services.GetRequiredService<TokenIssuer>().Mint(subject, Roles.Researcher, [], TimeSpan.FromMinutes(10)));

    public GraphQLClient As(string subject) => new(ResearcherClient(subject));

    public static string NewSubject() => $"researcher-{Guid.NewGuid():N}";

    /// <summary>Release sequences, newest first: asOf names only releases, so the budget tests
    /// need a dozen of them (each cut after one more episode).</summary>
    public IReadOnlyList<long> Releases { get; private set; } = [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        for (var i = 0; i < 13; i++)
        {
            await PushAsync(NetworkGenerator.Generate(Options with { Episodes = 1, Seed = 500 + i }));
            await WaitForOutcomesAsync();
        }
        using var admin = Client(Token(Roles.Admin));
        Releases = [.. (await admin.GetFromJsonAsync<List<System.Text.Json.Nodes.JsonObject>>("api/releases"))!
            .Select(r => r["sequence"]!.GetValue<long>())];
    }
}

/// <summary>Every researcher request is bounded before it does the work: documents by depth, cost
/// and size measured in time linear in their text, replays by a cap per request and per token,
/// and all research surfaces by one rate limit.</summary>
public class CostBoundTests(SmallBudgetsFixture fixture) : IClassFixture<SmallBudgetsFixture>
{
    /// <summary>35 levels of fragments, each spreading the next one twice: 2^35 selections once
    /// expanded, in 1.5 KB. GraphQL.NET's analyzer ran for minutes on it.</summary>
    public static string FanOut(string leaf, int levels = 35) =>
        "query { ...F" + levels + " } fragment F0 on Query { " + leaf + " } " +
        string.Concat(Enumerable.Range(1, levels).Select(i => $"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }} "));

    [Theory]
    [InlineData("clinics { id episodes } readModel { sequence }", 35, "TOO_COMPLEX")]
    [InlineData("__typename", 35, "TOO_COMPLEX")]
    // Cheap fields (introspection counts 2%) still expand to 262,144 selections for validation to walk.
    [InlineData("__typename", 18, "TOO_LARGE")]
    public async Task A_fragment_fan_out_is_refused_in_well_under_a_second_of_work(string leaf, int levels, string code)
    {
        var clock = Stopwatch.StartNew();
        var reply = await fixture.As(SmallBudgetsFixture.NewSubject()).PostAsync(FanOut(leaf, levels));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal(code, reply.FirstErrorCode);
        Assert.Null(reply.Body!["data"]);
        // A liveness bound, generous for a shared CI machine: the analysis itself takes milliseconds.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_fragment_cycle_is_refused_as_a_request_error_without_hanging()
    {
        var reply = await fixture.As(SmallBudgetsFixture.NewSubject())
            .PostAsync("query { ...A } fragment A on Query { readModel { k } ...B } fragment B on Query { ...A }");
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.NotNull(reply.FirstErrorCode);
    }

    [Fact]
    public async Task Depth_counts_through_fragments()
    {
        var nested = "query { __schema { types { ...T } } } fragment T on __Type { fields { type { " +
                     string.Concat(Enumerable.Repeat("ofType { ", 12)) + "name" + new string('}', 12) + " } } }";
        var reply = await fixture.As(SmallBudgetsFixture.NewSubject()).PostAsync(nested);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("TOO_DEEP", reply.FirstErrorCode);
    }

    [Fact]
    public async Task Many_distinct_asOf_values_in_one_request_are_refused_before_any_replay()
    {
        var aliases = string.Join(" ", Enumerable.Range(0, 60).Select(i => $"a{i}: cohortComparison(asOf: {fixture.Releases[0] - i}) {{ sequence }}"));
        var clock = Stopwatch.StartNew();

        var reply = await fixture.As(SmallBudgetsFixture.NewSubject()).PostAsync("{ " + aliases + " }");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("TOO_MANY_AS_OF", reply.FirstErrorCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task AsOf_values_given_in_variables_count_too_and_repeats_count_once()
    {
        var r = fixture.Releases;
        var client = fixture.As(SmallBudgetsFixture.NewSubject());
        const string document = "query($a: Long, $b: Long, $c: Long, $d: Long) { " +
                                "a: cohortComparison(asOf: $a) { sequence } b: cohortComparison(asOf: $b) { sequence } " +
                                "c: kaplanMeier(asOf: $c) { sequence } d: clinicBenchmarks(asOf: $d) { sequence } }";

        var four = await client.PostAsync(document, new { a = r[0], b = r[1], c = r[2], d = r[3] });
        Assert.Equal("TOO_MANY_AS_OF", four.FirstErrorCode);

        var repeated = await client.PostAsync(document, new { a = r[0], b = r[0], c = r[1], d = r[1] });
        Assert.True(repeated.Status == HttpStatusCode.OK && repeated.Errors is null, repeated.Text);
        Assert.Equal(r[1], repeated.Data["c"]!["sequence"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_token_that_spent_its_replay_budget_gets_429_with_retry_after_on_graphql_and_rest()
    {
        var r = fixture.Releases;
        var subject = SmallBudgetsFixture.NewSubject();
        var client = fixture.As(subject);
        for (var i = 0; i < SmallBudgetsFixture.AsOfPerToken; i++)
        {
            var ok = await client.PostAsync($"{{ cohortComparison(asOf: {r[i]}) {{ sequence }} }}");
            Assert.True(ok.Status == HttpStatusCode.OK && ok.Errors is null, ok.Text);
        }

        var refused = await client.PostAsync($"{{ cohortComparison(asOf: {r[10]}) {{ sequence }} }}");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal("REPLAY_BUDGET_SPENT", refused.FirstErrorCode);
        Assert.True(refused.Response.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        using var rest = fixture.ResearcherClient(subject);
        var viaRest = await rest.PostAsync($"api/studies/cohort-comparison?asOf={r[11]}", PlatformFixture.Json("{}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, viaRest.StatusCode);
        Assert.Equal("application/problem+json", viaRest.Content.Headers.ContentType?.MediaType);
        Assert.True(viaRest.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // Questions of the latest release cost no replay and still go through.
        Assert.Equal(HttpStatusCode.OK, (await rest.PostAsync("api/studies/cohort-comparison", PlatformFixture.Json("{}"))).StatusCode);
    }

    [Fact]
    public async Task Concurrent_requests_for_the_same_asOf_share_one_replay_and_agree()
    {
        var sequence = fixture.Releases[3];
        var replies = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var rest = fixture.ResearcherClient(SmallBudgetsFixture.NewSubject());
            var response = await rest.PostAsync($"api/studies/cohort-comparison?asOf={sequence}", PlatformFixture.Json("{}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }));
        Assert.Single(replies.Distinct());
    }

    [Fact]
    public async Task The_rest_study_and_graphql_share_one_rate_limit_per_token()
    {
        var subject = SmallBudgetsFixture.NewSubject();
        var graphql = fixture.As(subject);
        for (var i = 0; i < SmallBudgetsFixture.PermitLimit; i++)
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await graphql.PostAsync("{ __typename }")).Status);

        using var rest = fixture.ResearcherClient(subject);
        var refused = await rest.PostAsync("api/studies/cohort-comparison", PlatformFixture.Json("{}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("urn:matoutcomes:problem:rate-limited", (await refused.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["type"]!.GetValue<string>());
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await rest.GetAsync("api/projections/outcomes")).StatusCode);

        using var other = fixture.ResearcherClient(SmallBudgetsFixture.NewSubject());
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("api/studies/cohort-comparison", PlatformFixture.Json("{}"))).StatusCode);
    }
}

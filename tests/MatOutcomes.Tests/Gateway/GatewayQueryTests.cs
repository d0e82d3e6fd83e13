using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Marten;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Gateway.Auditing;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Tests.Outcomes;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MatOutcomes.Tests.Gateway;

/// <summary>Every query of the gateway over a simulated network pushed through the sync API and
/// projected asynchronously: figures equal the REST endpoint (itself proven against textbook
/// formulas over raw episodes) or a per-episode computation here, and small cells stay hidden.</summary>
public class GatewayQueryTests(NetworkFixture fixture) : IClassFixture<NetworkFixture>
{
    private const int K = 11;
    private const double Tolerance = 1e-9;

    private GraphQLClient Researcher => new(fixture.Client(fixture.Token(Roles.Researcher)));

    private List<RawEpisode> Raw => fixture.Network.Episodes.Select(RawEpisode.From).Where(e => e is not null).Select(e => e!).ToList();

    private async Task<JsonNode> Rest(StudyQuery query)
    {
        var response = await fixture.Client(fixture.Token(Roles.Researcher)).PostAsJsonAsync("/api/studies/cohort-comparison", query, ProtocolJson.Options);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    /// <summary>Every value GraphQL served equals the REST endpoint's at the same path (REST leaves nulls out).</summary>
    private static void SameAsRest(JsonNode? served, JsonNode? rest, string path)
    {
        switch (served)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                    if (key is not ("replayed" or "filter")) SameAsRest(value, rest?[key], $"{path}.{key}");
                break;
            case JsonArray a:
                Assert.True(rest is JsonArray r && r.Count == a.Count, $"{path}: {a.Count} items served, REST has {rest?.ToJsonString()}");
                for (var i = 0; i < a.Count; i++) SameAsRest(a[i], rest![i], $"{path}[{i}]");
                break;
            case JsonValue v when v.GetValueKind() is JsonValueKind.Number:
                Assert.True(rest is JsonValue rv && Math.Abs(v.GetValue<double>() - rv.GetValue<double>()) <= Tolerance, $"{path}: served {v}, REST {rest}");
                break;
            case JsonValue v:
                Assert.True(string.Equals(v.ToString(), rest?.ToString(), StringComparison.OrdinalIgnoreCase), $"{path}: served {v}, REST {rest}");
                break;
            case null:
                Assert.True(rest is null, $"{path}: served null, REST {rest}");
                break;
        }
    }

    private static IEnumerable<string> Leaves(JsonNode? node, string path = "") => node switch
    {
        JsonObject o => o.Where(p => p.Key != "replayed").SelectMany(p => Leaves(p.Value, $"{path}.{p.Key}")),
        JsonArray a => a.SelectMany((item, i) => Leaves(item, $"{path}[{i}]")),
        _ => [$"{path}={node?.ToJsonString()}"],
    };

    [Fact]
    public async Task Clinics_are_listed_with_their_episode_counts()
    {
        var data = await Researcher.QueryAsync("{ clinics { id episodes suppressed } }");
        // A release lists the episodes it publishes: discharged, from closed quarters.
        var expected = Raw.Where(e => e.Published).GroupBy(e => e.Clinic).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, g.Count(), false));
        Assert.Equal(expected, data["clinics"]!.AsArray().Select(c => (c!["id"]!.GetValue<string>(), c["episodes"]!.GetValue<int>(), c["suppressed"]!.GetValue<bool>())));
    }

    [Fact]
    public async Task The_cohort_comparison_serves_every_statistic_with_its_ci_as_the_rest_endpoint_computes_it()
    {
        var data = await Researcher.QueryAsync(
            "query($filter: StudyFilter) { cohortComparison(filter: $filter) { ...Comparison replayed filter { regions chronicFromWeeks includeActive ndiMcid } } }" + Fragments.Comparison,
            new { filter = new { regions = new[] { "LOW_BACK", "NECK" }, chronicFromWeeks = 26 } });
        var served = data["cohortComparison"]!;
        Assert.False(served["suppressed"]!.GetValue<bool>());
        Assert.False(served["replayed"]!.GetValue<bool>());
        Assert.Equal("""{"regions":["LOW_BACK","NECK"],"chronicFromWeeks":26,"includeActive":false,"ndiMcid":8}""", served["filter"]!.ToJsonString());

        var rest = await Rest(new StudyQuery { Regions = [ComplaintRegion.LowBack, ComplaintRegion.Neck], ChronicFromWeeks = 26 });
        SameAsRest(served, rest, "cohortComparison");
        Assert.Equal(Raw.Count(e => e.Published && e.Region is ComplaintRegion.LowBack or ComplaintRegion.Neck && e.Weeks < 26), served["early"]!["patients"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_study_over_a_thin_slice_is_suppressed_with_every_figure_and_count_withheld()
    {
        var data = await Researcher.QueryAsync(
            "{ cohortComparison(filter: { regions: [MIXED], ageBands: [AGE_70_PLUS], occupations: [NOT_STATED] }) { ...Comparison } }" + Fragments.Comparison);
        var served = data["cohortComparison"]!;
        Assert.True(served["suppressed"]!.GetValue<bool>());
        Assert.False(string.IsNullOrEmpty(served["suppressionReason"]?.GetValue<string>()));
        foreach (var cohort in new[] { "early", "chronic", "acute", "subacute" })
        {
            Assert.Null(served[cohort]!["patients"]);
            Assert.Null(served[cohort]!["durableNprsChange"]!["mean"]);
            Assert.Null(served[cohort]!["durableNprsChange"]!["n"]);
            Assert.Null(served[cohort]!["nprsResponders"]!["count"]);
            Assert.Null(served[cohort]!["sessionsToMcid"]!["n"]);
            Assert.Empty(served[cohort]!["sessionsToMcid"]!["curve"]!.AsArray());
        }
        Assert.All(served["benchmarks"]!.AsArray(), b => Assert.Null(b!["n"]));
        Assert.Null(served["responderRiskDifference"]!["estimate"]);
    }

    [Fact]
    public async Task Kaplan_meier_curves_and_clinic_benchmarks_are_those_of_the_comparison()
    {
        var data = await Researcher.QueryAsync("""
            { kaplanMeier { sequence suppressed curves { cohort estimate { ...Curve } } }
              clinicBenchmarks { sequence suppressed clinics { ...Benchmark } } }
            """ + Fragments.Curve + Fragments.Benchmark);
        var rest = await Rest(new StudyQuery());
        var curves = data["kaplanMeier"]!["curves"]!.AsArray();
        Assert.Equal(["EARLY", "CHRONIC", "ACUTE", "SUBACUTE"], curves.Select(c => c!["cohort"]!.GetValue<string>()));
        foreach (var curve in curves)
        {
            var cohort = curve!["cohort"]!.GetValue<string>().ToLowerInvariant();
            SameAsRest(curve["estimate"], rest[cohort]!["sessionsToMcid"], $"kaplanMeier.{cohort}");
            Assert.NotEmpty(curve["estimate"]!["curve"]!.AsArray());
        }
        SameAsRest(data["clinicBenchmarks"]!["clinics"], rest["benchmarks"], "clinicBenchmarks");
        Assert.Equal(4, data["clinicBenchmarks"]!["clinics"]!.AsArray().Count);
    }

    [Fact]
    public async Task Outcome_trends_per_quarter_equal_a_per_episode_computation_and_withhold_thin_quarters()
    {
        var data = await Researcher.QueryAsync("""
            { outcomeTrends { sequence suppressed quarters withheldQuarters
                series { cohort points { quarter patients suppressed durableNprsChange { n mean lower upper } nprsResponders { n count proportion } } } } }
            """);
        var trends = data["outcomeTrends"]!;
        var withheld = trends["withheldQuarters"]!.AsArray().Select(q => q!.GetValue<string>()).ToHashSet();
        var raw = Raw;
        static string Quarter(RawEpisode e) => Quarters.OfMonth(e.StartMonth);
        static PainDuration Atom(RawEpisode e) => PainDurations.Of(e.Weeks);

        // The safety property itself: shown quarters are safe one by one, the withheld ones together.
        var atoms = raw.Where(e => e.Published).GroupBy(e => (Withheld: withheld.Contains(Quarter(e)), Quarter: withheld.Contains(Quarter(e)) ? "" : Quarter(e), Atom(e)));
        Assert.All(atoms, g => Assert.True(g.Count() >= K, $"{g.Key} holds {g.Count()}; withheld {string.Join(",", withheld)}; quarters {trends["quarters"]!.ToJsonString()}"));
        Assert.False(trends["suppressed"]!.GetValue<bool>());

        foreach (var series in trends["series"]!.AsArray())
        {
            var cohort = series!["cohort"]!.GetValue<string>();
            Func<RawEpisode, bool> inCohort = cohort switch
            {
                "EARLY" => e => e.Weeks < 12, "CHRONIC" => e => e.Weeks >= 12, "ACUTE" => e => e.Weeks < 6, _ => e => e.Weeks is >= 6 and < 12,
            };
            foreach (var point in series["points"]!.AsArray())
            {
                var quarter = point!["quarter"]!.GetValue<string>();
                if (withheld.Contains(quarter))
                {
                    Assert.True(point["suppressed"]!.GetValue<bool>());
                    Assert.Null(point["durableNprsChange"]!["mean"]);
                    Assert.Null(point["patients"]);
                    continue;
                }
                var episodes = raw.Where(e => e.Published && Quarter(e) == quarter && inCohort(e)).ToList();
                var changes = episodes.Where(e => e.Change is not null).Select(e => (double)e.Change!.Value).ToList();
                Assert.Equal(episodes.Count, point["patients"]!.GetValue<int>());
                var (mean, _, lower, upper) = Textbook.MeanCi(changes);
                Assert.Equal(changes.Count, point["durableNprsChange"]!["n"]!.GetValue<int>());
                Assert.True(Math.Abs(mean - point["durableNprsChange"]!["mean"]!.GetValue<double>()) <= Tolerance, $"{cohort} {quarter} mean");
                Assert.True(Math.Abs(lower - point["durableNprsChange"]!["lower"]!.GetValue<double>()) <= Tolerance, $"{cohort} {quarter} lower");
                Assert.True(Math.Abs(upper - point["durableNprsChange"]!["upper"]!.GetValue<double>()) <= Tolerance, $"{cohort} {quarter} upper");
                var responders = episodes.Count(e => e.Change >= 2 && e.Change >= 0.3 * e.Baseline);
                Assert.Equal(responders, point["nprsResponders"]!["count"]!.GetValue<int>());
            }
        }
    }

    [Fact]
    public async Task A_trend_of_a_thin_slice_is_withheld_entirely()
    {
        var data = await Researcher.QueryAsync("{ outcomeTrends(filter: { sexes: [OTHER, NOT_STATED] }) { suppressed suppressionReason quarters withheldQuarters series { points { patients durableNprsChange { mean } } } } }");
        var trends = data["outcomeTrends"]!;
        Assert.True(trends["suppressed"]!.GetValue<bool>());
        Assert.Equal(trends["quarters"]!.ToJsonString(), trends["withheldQuarters"]!.ToJsonString());
        Assert.All(trends["series"]!.AsArray().SelectMany(s => s!["points"]!.AsArray()), p => Assert.Null(p!["durableNprsChange"]!["mean"]));
    }

    private async Task<List<JsonNode>> AllRows(string filter = "")
    {
        var rows = new List<JsonNode>();
        string? after = null;
        int? total = null;
        do
        {
            var data = await Researcher.QueryAsync($$"""
                query($after: String) { episodes(first: 500, after: $after{{filter}}) { totalCount k pageInfo { hasNextPage endCursor } edges { cursor node { ...Row } } } }
                """ + Fragments.Row, new { after });
            var page = data["episodes"]!;
            total ??= page["totalCount"]!.GetValue<int>();
            Assert.Equal(total, page["totalCount"]!.GetValue<int>());
            rows.AddRange(page["edges"]!.AsArray().Select(e => e!["node"]!));
            after = page["pageInfo"]!["hasNextPage"]!.GetValue<bool>() ? page["pageInfo"]!["endCursor"]!.GetValue<string>() : null;
        } while (after is not null);
        Assert.Equal(total, rows.Count);
        return rows;
    }

    private static string QuasiIdentifiers(JsonNode row) => string.Join('|', new[]
    {
        "generalizationLevel", "cohort", "status", "durationWeeksFrom", "durationWeeksBelow", "clinic", "region", "occupation", "ageBand",
        "sex", "format", "startQuarter", "startYear",
    }.Select(f => row[f]?.ToJsonString() ?? "null"));

    [Fact]
    public async Task Episode_rows_page_through_every_released_row_and_each_looks_like_at_least_k_others()
    {
        var rows = await AllRows();
        var raw = Raw.Where(e => e.Published).ToList();
        Assert.InRange(rows.Count, raw.Count * 0.9, raw.Count);

        Assert.All(rows.GroupBy(QuasiIdentifiers), g => Assert.True(g.Count() >= K, $"{g.Key}: {g.Count()} rows"));

        // Each row's outcomes are some episode's (as a multiset, by clinic where shown).
        var outcomes = raw.GroupBy(e => (e.Baseline, e.Latest, e.Sessions)).ToDictionary(g => g.Key, g => g.Count());
        foreach (var row in rows)
        {
            var key = (row["baselineNprs"]!.GetValue<int>(), row["latestNprs"]?.GetValue<int>(), row["sessions"]!.GetValue<int>());
            Assert.True(outcomes.TryGetValue(key, out var left) && left > 0, $"no episode has {key}");
            outcomes[key] = left - 1;
        }

        // The order says nothing of clinic: clinics are interleaved from the first rows on.
        Assert.True(rows.Take(40).Select(r => r["clinic"]?.GetValue<string>()).Where(c => c is not null).Distinct().Count() > 1);
        var levels = rows.GroupBy(r => r["generalizationLevel"]!.GetValue<int>()).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}");
        Console.WriteLine($"released {rows.Count} of {raw.Count} episodes; rows per generalization level {string.Join(" ", levels)}");
    }

    [Fact]
    public async Task Episode_row_filters_match_released_values_only()
    {
        var all = await AllRows();
        var lowBack = await AllRows(", filter: { regions: [LOW_BACK], statuses: [DISCHARGED] }");
        Assert.All(lowBack, r => Assert.Equal(("LOW_BACK", "DISCHARGED"), (r["region"]?.GetValue<string>(), r["status"]!.GetValue<string>())));
        Assert.Equal(all.Count(r => r["region"]?.GetValue<string>() == "LOW_BACK" && r["status"]!.GetValue<string>() == "DISCHARGED"), lowBack.Count);

        var male = await AllRows(", filter: { sexes: [MALE] }");
        Assert.All(male, r => Assert.Equal("MALE", r["sex"]?.GetValue<string>()));
    }

    [Fact]
    public async Task A_page_of_rows_is_audited_with_the_rows_it_returned()
    {
        var operation = $"Rows{Guid.NewGuid():N}";
        var data = await Researcher.QueryAsync($"query {operation} {{ episodes(first: 7) {{ edges {{ node {{ cohort }} }} }} }}");
        Assert.Equal(7, data["episodes"]!["edges"]!.AsArray().Count);
        await using var session = fixture.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var entry = await session.Query<GatewayAuditEntry>().SingleAsync(e => e.OperationName == operation);
        Assert.Equal(7, entry.RowsReturned);
    }

    [Theory]
    [InlineData("episodes(first: 0) { totalCount }", "INVALID_ARGUMENT")]
    [InlineData("episodes(first: 501) { totalCount }", "INVALID_ARGUMENT")]
    [InlineData("episodes(after: \"bm90LWEtY3Vyc29y\") { totalCount }", "INVALID_CURSOR")]
    [InlineData("cohortComparison(filter: { fromMonth: \"2026-02\" }) { k }", "INVALID_ARGUMENT")]
    [InlineData("cohortComparison(filter: { chronicFromWeeks: 13 }) { k }", "INVALID_ARGUMENT")]
    [InlineData("cohortComparison(asOf: 999999999) { k }", "INVALID_AS_OF")]
    [InlineData("runStudy(name: \"never-saved\") { sequence }", "STUDY_NOT_FOUND")]
    public async Task Bad_arguments_are_field_errors_with_a_code_and_the_field(string field, string code)
    {
        var reply = await Researcher.PostAsync("{ " + field + " }");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Null(reply.Body!["data"]);
        Assert.Equal(code, reply.FirstErrorCode);
    }

    [Fact]
    public async Task An_invalid_filter_names_each_broken_field()
    {
        var reply = await Researcher.PostAsync("{ cohortComparison(filter: { fromMonth: \"2026-02\", toMonth: \"2025-12\", clinics: [\"Not An Id\"] }) { k } }");
        var errors = reply.Errors![0]!["extensions"]!["data"]!["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()).ToList();
        Assert.Equal(["filter.fromMonth", "filter.toMonth", "filter.clinics[0]"], errors);
    }

    [Fact]
    public async Task Saved_studies_are_versioned_and_a_repeated_save_changes_nothing()
    {
        var name = $"early-vs-chronic-{Guid.NewGuid():N}"[..30];
        const string save = """
            mutation($input: SaveStudyInput!) { saveStudy(input: $input) { name version title outcome savedBy filter { regions chronicFromWeeks } } }
            """;
        var v1 = (await Researcher.QueryAsync(save, new { input = new { name, title = "Low back", outcome = "NPRS_RESPONDERS", filter = new { regions = new[] { "LOW_BACK" } } } }))["saveStudy"]!;
        Assert.Equal((1, "test", "NPRS_RESPONDERS"), (v1["version"]!.GetValue<int>(), v1["savedBy"]!.GetValue<string>(), v1["outcome"]!.GetValue<string>()));

        var again = (await Researcher.QueryAsync(save, new { input = new { name, title = "Low back", outcome = "NPRS_RESPONDERS", filter = new { regions = new[] { "LOW_BACK" } } } }))["saveStudy"]!;
        Assert.Equal(1, again["version"]!.GetValue<int>());

        var v2 = (await Researcher.QueryAsync(save, new { input = new { name, title = "Low back, 26 weeks", outcome = "NPRS_RESPONDERS", expectedLatestVersion = 1,
            filter = new { regions = new[] { "LOW_BACK" }, chronicFromWeeks = 26 } } }))["saveStudy"]!;
        Assert.Equal((2, 26), (v2["version"]!.GetValue<int>(), v2["filter"]!["chronicFromWeeks"]!.GetValue<int>()));

        var stale = await Researcher.PostAsync(save, new { input = new { name, title = "Stale", outcome = "NPRS_RESPONDERS", expectedLatestVersion = 1 } });
        Assert.Equal("VERSION_CONFLICT", stale.FirstErrorCode);

        var read = await Researcher.QueryAsync($$"""
            { latest: study(name: "{{name}}") { version } first: study(name: "{{name}}", version: 1) { title filter { chronicFromWeeks } }
              studyVersions(name: "{{name}}") { version } studies { name version } }
            """);
        Assert.Equal(2, read["latest"]!["version"]!.GetValue<int>());
        Assert.Equal(("Low back", 12), (read["first"]!["title"]!.GetValue<string>(), read["first"]!["filter"]!["chronicFromWeeks"]!.GetValue<int>()));
        Assert.Equal([1, 2], read["studyVersions"]!.AsArray().Select(v => v!["version"]!.GetValue<int>()));
        Assert.Contains(read["studies"]!.AsArray(), s => s!["name"]!.GetValue<string>() == name && s["version"]!.GetValue<int>() == 2);

        var invalid = await Researcher.PostAsync(save, new { input = new { name = "No Spaces", title = "", outcome = "NDI_CHANGE", filter = new { toMonth = "2026-02" } } });
        var fields = invalid.Errors![0]!["extensions"]!["data"]!["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>());
        Assert.Equal(["input.name", "input.title", "input.filter.toMonth"], fields);
    }

    [Fact]
    public async Task A_study_run_names_its_sequence_and_rerun_as_of_it_gives_the_same_figures()
    {
        var name = $"reproduce-{Guid.NewGuid():N}"[..24];
        await Researcher.QueryAsync("mutation($input: SaveStudyInput!) { saveStudy(input: $input) { version } }",
            new { input = new { name, title = "All regions", outcome = "NPRS_RESPONDERS" } });
        const string run = """
            query($name: String!, $asOf: Long) { runStudy(name: $name, asOf: $asOf) { sequence replayed study { version }
              primary { outcome measure early { value lower upper n suppressed } chronic { value n } difference { estimate lower upper } numberNeededToTreat { estimate } }
              comparison { ...Comparison } } }
            """ + Fragments.Comparison;
        var live = (await Researcher.QueryAsync(run, new { name }))["runStudy"]!;
        Assert.False(live["replayed"]!.GetValue<bool>());
        SameAsRest(live["primary"]!["difference"], live["comparison"]!["responderRiskDifference"], "primary.difference");
        SameAsRest(live["primary"]!["numberNeededToTreat"], live["comparison"]!["numberNeededToTreat"], "primary.nnt");
        Assert.Equal(live["comparison"]!["early"]!["nprsResponders"]!["proportion"]!.GetValue<double>(), live["primary"]!["early"]!["value"]!.GetValue<double>());

        var sequence = live["sequence"]!.GetValue<long>();
        var replayed = (await Researcher.QueryAsync(run, new { name, asOf = sequence }))["runStudy"]!;
        Assert.True(replayed["replayed"]!.GetValue<bool>());
        // Bit-identical except where the cells hold double sums (relief, ODI): those carry the live
        // projection's add/remove history in their last bits, so they agree to rounding only.
        SameAsRest(replayed, live, "replayed");
        var differing = Leaves(live).Zip(Leaves(replayed)).Where(p => p.First != p.Second).Select(p => p.First).ToList();
        Assert.All(differing, d => Assert.Matches(@"\.(immediateRelief|odiChange|odiChangeDifference)\.", d));
    }
}

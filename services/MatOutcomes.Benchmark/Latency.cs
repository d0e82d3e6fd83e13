using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace MatOutcomes.Benchmark;

/// <summary>Latency percentiles of a set of timings, in milliseconds.</summary>
public sealed record Percentiles(int Count, double P50, double P99, double Max, double PerSecond)
{
    public static Percentiles Of(IReadOnlyCollection<double> milliseconds, TimeSpan wall)
    {
        if (milliseconds.Count == 0) return new(0, double.NaN, double.NaN, double.NaN, 0);
        var sorted = milliseconds.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new(sorted.Length, At(0.50), At(0.99), sorted[^1], sorted.Length / Math.Max(wall.TotalSeconds, 1e-9));
    }
}

/// <summary>Researchers asking GraphQL questions, one or many at once, each request timed from
/// send to the whole answer read.</summary>
public static class QueryLoad
{
    /// <summary>Every statistic of a cohort comparison: what a researcher's study table asks for.</summary>
    public const string Comparison = """
        query($filter: StudyFilter) { cohortComparison(filter: $filter) { sequence k suppressed suppressionReason
          early { ...Cohort } chronic { ...Cohort } acute { ...Cohort } subacute { ...Cohort }
          durableChangeDifference { ...Diff } durableChangeHedgesG { ...Diff } ndiChangeDifference { ...Diff }
          odiChangeDifference { ...Diff } responderRiskDifference { ...Diff }
          numberNeededToTreat { estimate lower upper ciIncludesInfinity suppressed }
          adjustedDurableChangeDifference { ...Adj } adjustedResponderDifference { ...Adj }
          benchmarks { clinic n observed expected observedMinusExpected lower upper suppressed } } }
        fragment Mean on MeanEstimate { n mean sd lower upper suppressed }
        fragment Prop on ProportionEstimate { n count proportion lower upper suppressed }
        fragment Diff on DifferenceEstimate { estimate lower upper degreesOfFreedom suppressed }
        fragment Adj on AdjustedDifference { estimate standardError lower upper n parameters suppressed }
        fragment Cohort on CohortOutcomes { cohort patients suppressed
          immediateRelief { ...Mean } durableNprsChange { ...Mean } ndiChange { ...Mean } odiChange { ...Mean }
          nprsResponders { ...Prop } ndiResponders { ...Prop } odiResponders { ...Prop } relapseAtFollowUp { ...Prop }
          sessionsToMcid { n events medianSessions medianLower medianUpper suppressed curve { sessions atRisk events censored survival lower upper } } }
        """;

    public const string Floor = "{ __typename }";

    /// <summary>Runs <paramref name="requests"/> by <paramref name="clients"/> concurrent clients,
    /// each request with the next body from <paramref name="bodies"/>; also counts withheld answers.</summary>
    public static async Task<(Percentiles Latency, int Withheld)> RunAsync(HttpClient http, int clients, int requests,
        Func<int, object> bodies, CancellationToken cancellation)
    {
        var timings = new List<double>(requests);
        var next = -1;
        var withheld = 0;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var i && i < requests)
            {
                var body = bodies(i);
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync("graphql", body, cancellation);
                var text = await response.Content.ReadAsStringAsync(cancellation);
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (!response.IsSuccessStatusCode || JsonNode.Parse(text)?["errors"] is not null)
                    throw new InvalidOperationException($"GraphQL answered {(int)response.StatusCode}: {text[..Math.Min(400, text.Length)]}");
                if (JsonNode.Parse(text)?["data"]?["cohortComparison"]?["suppressed"]?.GetValue<bool>() == true) Interlocked.Increment(ref withheld);
                lock (timings) timings.Add(elapsed);
            }
        }));
        return (Percentiles.Of(timings, wall.Elapsed), withheld);
    }
}

/// <summary>The filters a researcher sends: the same one again and again (answered from the
/// snapshot's memory), distinct ones (each computed), and broad ones over the whole network.</summary>
public static class Filters
{
    private static readonly string[] Regions = ["NECK", "UPPER_BACK", "LOW_BACK", "MIXED"];
    private static readonly string[] Occupations = ["DESK_STRESSFUL", "REPETITIVE_MANUAL", "OTHER_ACTIVE", "NOT_WORKING", "NOT_STATED"];
    private static readonly string[] Ages = ["AGE_18_29", "AGE_30_39", "AGE_40_49", "AGE_50_59", "AGE_60_69", "AGE_70_PLUS"];
    private static readonly string[] Sexes = ["FEMALE", "MALE"];
    private static readonly string[] Formats = ["STANDALONE_MAT", "WITHIN_MASSAGE"];
    private static readonly int[] Thresholds = [6, 12, 26, 52];

    public static object Repeated() => new { query = QueryLoad.Comparison, variables = new { filter = new { regions = new[] { "NECK" } } } };

    /// <summary>Filter <paramref name="i"/> of an endless list of distinct realistic studies: one to
    /// three restricted dimensions (sometimes clinics, a period or a session format), a threshold
    /// and an MCID, so no two are the same question.</summary>
    public static object Distinct(int i, IReadOnlyList<string> clinics, IReadOnlyList<string> quarters)
    {
        var random = new Random(1000 + i);
        var filter = new Dictionary<string, object>();
        var dimensions = new[] { "regions", "occupations", "ageBands", "sexes", "clinics", "formats", "period" }
            .OrderBy(_ => random.Next()).Take(1 + random.Next(3));
        foreach (var d in dimensions)
            switch (d)
            {
                case "regions": filter[d] = Pick(Regions, random); break;
                case "occupations": filter[d] = Pick(Occupations, random); break;
                case "ageBands": filter[d] = Pick(Ages, random); break;
                case "sexes": filter[d] = Pick(Sexes, random); break;
                case "formats": filter[d] = Pick(Formats, random); break;
                case "clinics": filter[d] = clinics.OrderBy(_ => random.Next()).Take(clinics.Count / 2).ToArray(); break;
                case "period" when quarters.Count > 1:
                    var from = random.Next(quarters.Count - 1);
                    filter["fromMonth"] = FirstMonth(quarters[from]);
                    filter["toMonth"] = LastMonth(quarters[from + random.Next(quarters.Count - from)]);
                    break;
            }
        filter["chronicFromWeeks"] = Thresholds[random.Next(Thresholds.Length)];
        // The MCID makes each filter a distinct question even when the dimensions repeat.
        filter["nprsMcidPoints"] = 1 + i % 5;
        filter["nprsMcidPercent"] = i / 5 % 100;
        return new { query = QueryLoad.Comparison, variables = new { filter } };
    }

    /// <summary>Broad studies over every episode of the network; distinct by their definitions.</summary>
    public static object Broad(int i) => new
    {
        query = QueryLoad.Comparison,
        variables = new
        {
            filter = new Dictionary<string, object>
            {
                ["chronicFromWeeks"] = Thresholds[i / 2 % 4], ["odiMcid"] = 1 + i % 2 * 10,
                ["nprsMcidPoints"] = 1 + i / 8 % 5, ["nprsMcidPercent"] = i / 40 % 100, ["ndiMcid"] = 1 + i % 20,
            },
        },
    };

    private static string[] Pick(string[] values, Random random) => values.OrderBy(_ => random.Next()).Take(1 + random.Next(Math.Min(2, values.Length))).ToArray();
    private static string FirstMonth(string quarter) => $"{quarter[..4]}-{(quarter[5] - '1') * 3 + 1:00}";
    private static string LastMonth(string quarter) => $"{quarter[..4]}-{(quarter[5] - '1') * 3 + 3:00}";
}

using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Gateway;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Disclosure;

/// <summary>The attacks a credentialed researcher can make with documented queries only, against
/// real PostgreSQL through the real gateway: differencing across time (asOf, and the latest answer
/// before and after a push), across the measures of one cohort, and across filters; and what a
/// withheld answer still says. Each fails on a platform that answers live figures or counts a
/// cohort's episodes for every measure.</summary>
public class DisclosureAttackTests(NetworkFixture fixture, ITestOutputHelper output) : IClassFixture<NetworkFixture>
{
    internal static DisclosureAttackTests On(NetworkFixture fixture, ITestOutputHelper output) => new(fixture, output);

    private const int K = 11;

    private GraphQLClient Researcher => new(fixture.Client(fixture.Token(Roles.Researcher)));

    private static readonly string Comparison = "query($filter: StudyFilter, $asOf: Long) { cohortComparison(filter: $filter, asOf: $asOf) { ...Comparison } }" +
                                                Fragments.Comparison;

    private async Task<JsonNode> CompareAsync(object filter, long? asOf = null) =>
        (await Researcher.QueryAsync(Comparison, new { filter, asOf }))["cohortComparison"]!;

    /// <summary>Every estimate object (one with an <c>n</c>) by its path in the answer.</summary>
    private static Dictionary<string, JsonObject> Figures(JsonNode node, string path = "")
    {
        var found = new Dictionary<string, JsonObject>();
        switch (node)
        {
            case JsonObject o:
                if (o.ContainsKey("n") && o["n"] is JsonValue) found[path] = o;
                foreach (var (key, value) in o)
                    if (value is not null)
                        foreach (var (p, f) in Figures(value, $"{path}.{key}")) found[p] = f;
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                    if (a[i] is { } item)
                        foreach (var (p, f) in Figures(item, $"{path}[{i}]")) found[p] = f;
                break;
        }
        return found;
    }

    /// <summary>Two answers never differ by fewer than k contributors in any figure both show: where
    /// a figure's n is the same, so is every number of it; otherwise its n moved by at least k.</summary>
    private static void NoSmallDifference(JsonNode a, JsonNode b, string what)
    {
        var before = Figures(a);
        var after = Figures(b);
        foreach (var (path, x) in before)
        {
            if (!after.TryGetValue(path, out var y) || x["n"] is null || y["n"] is null) continue;
            var (n1, n2) = (x["n"]!.GetValue<long>(), y["n"]!.GetValue<long>());
            if (n1 == n2)
                Assert.True(JsonNode.DeepEquals(x, y), $"{what}: {path} kept n = {n1} but changed: {x.ToJsonString()} → {y.ToJsonString()}");
            else
                Assert.True(Math.Abs(n2 - n1) >= K, $"{what}: {path} moved by {Math.Abs(n2 - n1)} contributors ({n1} → {n2})");
        }
    }

    /// <summary>Pushes, so it has a network of its own.</summary>
    public sealed class TemporalAttacks(NetworkFixture fixture, ITestOutputHelper output) : IClassFixture<NetworkFixture>
    {
        [Fact]
        public Task Two_releases_never_differ_by_fewer_than_k_patients_and_no_other_sequence_can_be_asked() =>
            On(fixture, output).TwoReleasesAsync();
    }

    /// <summary>Pushes, so it has a network of its own.</summary>
    public sealed class SmallClinicAttacks(NetworkFixture fixture, ITestOutputHelper output) : IClassFixture<NetworkFixture>
    {
        [Fact]
        public Task A_small_clinic_is_left_out_of_benchmarks_without_withdrawing_the_others_and_is_never_named() =>
            On(fixture, output).SmallClinicAsync();
    }

    private async Task TwoReleasesAsync()
    {
        var everyone = new { };
        var first = await CompareAsync(everyone);
        var firstSequence = first["sequence"]!.GetValue<long>();

        // One more patient's episode, then the next release.
        await fixture.PushAsync(NetworkGenerator.Generate(new NetworkOptions
            { Clinics = 1, Episodes = 1, Seed = 771, Months = 1, Today = new DateOnly(2026, 11, 1) }));
        await fixture.WaitForOutcomesAsync();

        var latest = await CompareAsync(everyone);
        var again = await CompareAsync(everyone, firstSequence);
        Assert.True(latest["sequence"]!.GetValue<long>() > firstSequence);
        Assert.True(JsonNode.DeepEquals(first["early"], again["early"]), "asOf the first release gives the first release's figures");
        NoSmallDifference(first, latest, "latest answers before and after one push");
        NoSmallDifference(again, latest, "asOf the earlier release against the latest");
        foreach (var filter in new object[] { new { chronicFromWeeks = 26 }, new { regions = new[] { "LOW_BACK" } } })
            NoSmallDifference(await CompareAsync(filter, firstSequence), await CompareAsync(filter), $"filter {System.Text.Json.JsonSerializer.Serialize(filter)}");

        // Sequences between releases (the one-patient steps) cannot be asked at all.
        for (var sequence = firstSequence + 1; sequence < latest["sequence"]!.GetValue<long>(); sequence++)
        {
            var reply = await Researcher.PostAsync(Comparison, new { filter = everyone, asOf = sequence });
            Assert.Equal("INVALID_AS_OF", reply.FirstErrorCode);
        }
    }

    [Fact]
    public async Task A_figure_counts_its_own_contributors_so_two_filters_never_isolate_a_few_patients_of_one_measure()
    {
        var all = await CompareAsync(new { });
        var stated = await CompareAsync(new { occupations = new[] { "DESK_STRESSFUL", "REPETITIVE_MANUAL", "OTHER_ACTIVE", "NOT_WORKING" } });
        NoSmallDifference(all, stated, "everyone against everyone with an occupation stated");
        Assert.NotEqual(all["early"]!["patients"]?.ToJsonString(), stated["early"]!["patients"]?.ToJsonString());
    }

    private async Task SmallClinicAsync()
    {
        // A clinic of 6 patients joins, beside one of 400 (so the network moves by more than k in
        // every pain-duration band, and the next release may publish).
        var small = PlatformFixture.NewClinic();
        var network = NetworkGenerator.Generate(new NetworkOptions { Clinics = 1, Episodes = 6, Seed = 772, Months = 3, Today = new DateOnly(2026, 11, 1) });
        var large = NetworkGenerator.Generate(new NetworkOptions { Clinics = 1, Episodes = 400, Seed = 773, Months = 6, Today = new DateOnly(2026, 11, 1) });
        await fixture.PushAsync(Renamed(network, small));
        await fixture.PushAsync(Renamed(large, PlatformFixture.NewClinic()));
        await fixture.WaitForOutcomesAsync();

        var answer = await CompareAsync(new { });
        var named = answer["benchmarks"]!.AsArray().Select(b => b!["clinic"]!.GetValue<string>()).ToList();
        output.WriteLine($"benchmarks shown for {string.Join(", ", named)}");
        Assert.NotEmpty(named);
        Assert.DoesNotContain(small, named);
        Assert.DoesNotContain(small, answer.ToJsonString());
    }

    private static SimulatedNetwork Renamed(SimulatedNetwork network, string clinic) =>
        network with
        {
            Clinics = [.. network.Clinics.Select(c => c with { Id = clinic, Episodes = [.. c.Episodes.Select(e => e with { ClinicId = clinic })] })],
        };

    /// <summary>A filter no release can answer: one rare value in each of four dimensions.</summary>
    private static readonly object Rare = new { sexes = new[] { "OTHER" }, ageBands = new[] { "AGE_70_PLUS" }, regions = new[] { "MIXED" }, occupations = new[] { "NOT_STATED" } };

    [Fact]
    public async Task Every_field_of_every_withheld_result_carries_its_reason_and_nothing_derived_from_the_data()
    {
        var types = await SchemaTypesAsync();
        foreach (var (field, type) in new[]
                 {
                     ("cohortComparison", "CohortComparison"), ("kaplanMeier", "TimeToImprovement"),
                     ("clinicBenchmarks", "ClinicBenchmarking"), ("outcomeTrends", "OutcomeTrends"),
                 })
        {
            var selection = Selection(types, type, 0);
            var answer = (await Researcher.QueryAsync($"query($filter: StudyFilter) {{ {field}(filter: $filter) {selection} }}", new { filter = Rare }))[field]!;
            Assert.True(answer["suppressed"]!.GetValue<bool>(), $"{field} answered the rare filter: {answer.ToJsonString()[..200]}");
            Assert.False(string.IsNullOrEmpty(answer["suppressionReason"]?.GetValue<string>()), $"{field} gives no reason");
            AssertCarriesNothing(answer, field);
        }
    }

    /// <summary>What a withheld answer may hold: its provenance (release, sequence, k, the filter it
    /// answers), that it is withheld and why. Anything else must be null, false, zero-length or a
    /// withheld figure.</summary>
    private static readonly HashSet<string> Provenance =
        ["sequence", "release", "replayed", "k", "suppressed", "suppressionReason", "filter", "withheld", "cohort", "outcome", "measure"];

    private static void AssertCarriesNothing(JsonNode? node, string path)
    {
        switch (node)
        {
            case null:
                return;
            case JsonObject o:
                foreach (var (key, value) in o)
                    if (!Provenance.Contains(key)) AssertCarriesNothing(value, $"{path}.{key}");
                return;
            case JsonArray a:
                Assert.True(a.Count == 0 || a.All(item => item is JsonObject), $"{path} lists {a.ToJsonString()}");
                foreach (var item in a) AssertCarriesNothing(item, path + "[]");
                return;
            case JsonValue v when v.GetValueKind() is System.Text.Json.JsonValueKind.True:
                Assert.Fail($"{path} is true in a withheld answer");
                return;
            case JsonValue v when v.GetValueKind() is System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.String:
                Assert.Fail($"{path} = {v.ToJsonString()} in a withheld answer");
                return;
        }
    }

    private sealed record FieldInfo(string Name, string Kind, string? Type, bool HasRequiredArguments);

    private async Task<Dictionary<string, List<FieldInfo>>> SchemaTypesAsync()
    {
        var data = await Researcher.QueryAsync("""
            { __schema { types { name kind fields { name args { type { kind } }
              type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
            """);
        var types = new Dictionary<string, List<FieldInfo>>();
        foreach (var type in data["__schema"]!["types"]!.AsArray())
        {
            if (type!["kind"]!.GetValue<string>() != "OBJECT") continue;
            types[type["name"]!.GetValue<string>()] = [.. type["fields"]!.AsArray().Select(f =>
            {
                var t = f!["type"]!;
                while (t["ofType"] is { } inner && t["name"] is null) t = inner;
                return new FieldInfo(f["name"]!.GetValue<string>(), t["kind"]!.GetValue<string>(), t["name"]?.GetValue<string>(),
                    f["args"]!.AsArray().Any(a => a!["type"]!["kind"]!.GetValue<string>() == "NON_NULL"));
            })];
        }
        return types;
    }

    /// <summary>Every field of a type, nested objects included (a few levels deep).</summary>
    private static string Selection(Dictionary<string, List<FieldInfo>> types, string type, int depth) =>
        "{ " + string.Join(" ", types[type].Where(f => !f.HasRequiredArguments && !f.Name.StartsWith("__", StringComparison.Ordinal))
            .Select(f => f.Kind == "OBJECT" ? depth < 5 ? $"{f.Name} {Selection(types, f.Type!, depth + 1)}" : null : f.Name)
            .Where(s => s is not null)) + " }";
}

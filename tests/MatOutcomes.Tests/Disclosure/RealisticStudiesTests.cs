using System.Text.Json;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Gateway;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Disclosure;

/// <summary>The demo's network (8 clinics, 3,000 episodes, two clinics offline) and a clinic of six
/// patients that has just joined: what ordinary studies a researcher would run.</summary>
public sealed class DemoNetworkWithSmallClinic : NetworkFixture
{
    protected override NetworkOptions Options => new()
        { Clinics = 8, Episodes = 3000, Seed = 20261130, Months = 18, OfflineShare = 0.25, Today = new DateOnly(2026, 11, 1) };

    public override async Task InitializeAsync()
    {
        await InitializeHostAsync();
        await PushAsync(NetworkGenerator.Generate(Options));
        var small = NetworkGenerator.Generate(Options with { Clinics = 1, Episodes = 6, Seed = 99 });
        await PushAsync(small with
        {
            Clinics = [.. small.Clinics.Select(c => c with { Id = "clinic-small", Episodes = [.. c.Episodes.Select(e => e with { ClinicId = "clinic-small" })] })],
        });
        await WaitForOutcomesAsync();
    }
}

/// <summary>A fixed set of realistic research filters (one region, one sex, one occupation, one age
/// band, one format, quarters and a year, and the network's clinic benchmarks with a small clinic
/// present): the share the platform answers, printed for the closing note, and a floor it must keep.
/// Uses only fields every version of the gateway has, so the same set measures earlier builds.</summary>
public class RealisticStudiesTests(DemoNetworkWithSmallClinic fixture, ITestOutputHelper output) : IClassFixture<DemoNetworkWithSmallClinic>
{
    public static IEnumerable<(string Name, object Filter, bool NeedsBenchmarks)> Studies()
    {
        foreach (var region in new[] { "NECK", "UPPER_BACK", "LOW_BACK", "MIXED" }) yield return ($"region {region}", new { regions = new[] { region } }, false);
        foreach (var sex in new[] { "FEMALE", "MALE" }) yield return ($"sex {sex}", new { sexes = new[] { sex } }, false);
        foreach (var occupation in new[] { "DESK_STRESSFUL", "REPETITIVE_MANUAL", "OTHER_ACTIVE", "NOT_WORKING" })
            yield return ($"occupation {occupation}", new { occupations = new[] { occupation } }, false);
        foreach (var age in new[] { "AGE_30_39", "AGE_40_49", "AGE_50_59", "AGE_60_69" }) yield return ($"age {age}", new { ageBands = new[] { age } }, false);
        foreach (var format in new[] { "STANDALONE_MAT", "WITHIN_MASSAGE" }) yield return ($"format {format}", new { formats = new[] { format } }, false);
        foreach (var (from, to) in new[] { ("2025-07", "2025-09"), ("2025-10", "2025-12"), ("2026-01", "2026-03"), ("2026-04", "2026-06"), ("2025-07", "2026-06") })
            yield return ($"period {from}..{to}", new { fromMonth = from, toMonth = to }, false);
        yield return ("benchmarks", new { }, true);
        yield return ("benchmarks, chronic from 26 weeks", new { chronicFromWeeks = 26 }, true);
        yield return ("women with neck pain", new { sexes = new[] { "FEMALE" }, regions = new[] { "NECK" } }, false);
        yield return ("desk workers, low back", new { occupations = new[] { "DESK_STRESSFUL" }, regions = new[] { "LOW_BACK" } }, false);
    }

    [Fact]
    public async Task Most_ordinary_studies_are_answered()
    {
        var researcher = new GraphQLClient(fixture.Client(fixture.Token(Roles.Researcher)));
        const string query = """
            query($filter: StudyFilter) { cohortComparison(filter: $filter) { suppressed
              early { durableNprsChange { n } } chronic { durableNprsChange { n } } benchmarks { clinic } } }
            """;
        var answered = 0;
        var studies = Studies().ToList();
        foreach (var (name, filter, needsBenchmarks) in studies)
        {
            var answer = (await researcher.QueryAsync(query, new { filter }))["cohortComparison"]!;
            var shown = !answer["suppressed"]!.GetValue<bool>() &&
                        answer["early"]!["durableNprsChange"]!["n"] is not null && answer["chronic"]!["durableNprsChange"]!["n"] is not null &&
                        (!needsBenchmarks || answer["benchmarks"]!.AsArray().Count > 0);
            if (shown) answered++;
            output.WriteLine($"{(shown ? "answered" : "withheld"),-9} {name} {JsonSerializer.Serialize(filter)}");
        }
        output.WriteLine($"answered {answered} of {studies.Count} ({100.0 * answered / studies.Count:F0}%)");
        Assert.True(answered >= studies.Count * 3 / 4, $"only {answered} of {studies.Count} ordinary studies answered");
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>A study design asked for again (studies that differ only in their MCIDs) is kept by the
/// snapshot, outcome-free, and each later study adds only its own responders to it. Kept or not, a
/// study's answer is the same, bit for bit.</summary>
public class StudyDesignTests
{
    private static readonly ComplaintRegion[] Regions = Enum.GetValues<ComplaintRegion>();
    private static readonly AgeBand[] Ages = Enum.GetValues<AgeBand>();
    private static readonly OccupationGroup[] Occupations = Enum.GetValues<OccupationGroup>();
    private static readonly PainDuration[] Durations = Enum.GetValues<PainDuration>();

    /// <summary>Twelve clinics of mixed case mix, every duration band, NDI and ODI changes on some episodes.</summary>
    private static List<Contribution> Simulate(int seed)
    {
        var random = new Random(seed);
        var contributions = new List<Contribution>();
        for (var c = 0; c < 12; c++)
            for (var i = 0; i < 150; i++)
            {
                var duration = Durations[random.Next(Durations.Length)];
                var baseline = random.Next(2, 11);
                var latest = Math.Clamp(baseline - random.Next(-1, 6) - (duration < PainDuration.From12To25 ? 1 : 0), 0, 10);
                var key = new CellKey($"clinic-{c:00}", $"2026Q{1 + random.Next(4)}", random.Next(2) == 0 ? FormatClass.StandaloneMat : FormatClass.WithinMassage,
                    true, duration, Regions[random.Next(Regions.Length)], Occupations[random.Next(Occupations.Length)], Ages[random.Next(Ages.Length)],
                    random.Next(3) == 0 ? Sex.Male : Sex.Female);
                int? ndiChange = random.Next(3) == 0 ? random.Next(-10, 26) : null;
                double? odiChange = random.Next(4) == 0 ? random.Next(-20, 60) : null;
                contributions.Add(new Contribution(key, baseline, latest, latest, null, null, random.Next(0, 5), ndiChange, odiChange,
                    random.Next(1, 12), Cubes.NeverReached(baseline), false, false));
            }
        return contributions;
    }

    private static readonly JsonSerializerOptions Exact = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The whole comparison as text: doubles written shortest-round-trip, so equal text is equal bits.</summary>
    private static string Answer(CubeSnapshot snapshot, StudyQuery query) => JsonSerializer.Serialize(StudyCalculator.Compare(snapshot, query, 11), Exact);

    [Fact]
    public void Studies_of_one_design_answer_bit_for_bit_as_on_a_fresh_snapshot_whether_the_design_was_kept_or_not()
    {
        var contributions = Simulate(5);
        var shared = Cubes.Of(contributions);
        var designs = new[]
        {
            new StudyQuery(),
            new StudyQuery { ChronicFromWeeks = 26 },
            new StudyQuery { Regions = [ComplaintRegion.Neck, ComplaintRegion.LowBack], ChronicFromWeeks = 6 },
        };
        var rules = new[] { (2, 30.0, 8, 10), (1, 0.0, 1, 1), (4, 50.0, 20, 30), (3, 10.0, 5, 60) };
        var compared = 0;
        foreach (var design in designs)
            foreach (var (points, percent, ndi, odi) in rules)
            {
                var query = design with { NprsMcidPoints = points, NprsMcidPercent = percent, NdiMcid = ndi, OdiMcid = odi };
                var kept = Answer(shared, query);
                Assert.Equal(Answer(Cubes.Of(contributions), query), kept);
                // Shown, and so is its weighting: both halves of the design were exercised.
                Assert.StartsWith("{\"Sequence\":1,\"K\":11,\"Suppressed\":false", kept);
                Assert.Contains("\"PropensityWeighted\":{\"Suppressed\":false", kept);
                compared++;
            }
        Assert.Equal(12, compared);

        // The later studies of each design really did take the kept design: their clinics' regression
        // sums are the kept design's arrays, not a copy.
        var filterQuery = designs[2] with { NprsMcidPoints = 5 };
        var filter = new CellFilter(filterQuery, shared);
        var a = StudyCalculator.ClinicModels(shared, filter, filterQuery);
        var b = StudyCalculator.ClinicModels(shared, filter, filterQuery with { NprsMcidPoints = 6 });
        Assert.Equal(12, a.Count);
        foreach (var (clinic, sums) in a)
        {
            Assert.Same(sums.XtX, b[clinic].XtX);
            Assert.Same(sums.XtyChange, b[clinic].XtyChange);
            Assert.NotSame(sums.XtyResponder, b[clinic].XtyResponder);
        }
    }

    [Fact]
    public void Concurrent_studies_of_one_design_each_answer_as_on_a_fresh_snapshot()
    {
        var contributions = Simulate(7);
        var shared = Cubes.Of(contributions);
        var rules = Enumerable.Range(0, 16).Select(i => new StudyQuery { NprsMcidPoints = 1 + i % 5, NprsMcidPercent = 10 * (i / 5) }).ToList();
        Answer(shared, new StudyQuery { NprsMcidPoints = 9 }); // the design's first study: nothing kept yet

        // Sixteen at once: one of them keeps the design and counts its own responders in that pass,
        // the others wait for it and count theirs from the kept pairs.
        var answers = new string[rules.Count];
        Parallel.For(0, rules.Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i => answers[i] = Answer(shared, rules[i]));
        for (var i = 0; i < rules.Count; i++) Assert.Equal(Answer(Cubes.Of(contributions), rules[i]), answers[i]);
    }

    [Fact]
    public void A_design_is_kept_from_its_second_study_on_and_filters_that_select_the_same_cells_share_it()
    {
        var snapshot = Cubes.Of(Simulate(6));
        var query = new StudyQuery { Regions = [ComplaintRegion.Neck, ComplaintRegion.LowBack] };
        ModelSums First(StudyQuery q) => StudyCalculator.ClinicModels(snapshot, new CellFilter(q, snapshot), q).Values.First();

        var first = First(query);
        var second = First(query with { NprsMcidPoints = 4 });
        // Spelled the other way round: the same cells, so the same design.
        var third = First(query with { Regions = [ComplaintRegion.LowBack, ComplaintRegion.Neck], NprsMcidPercent = 0 });
        Assert.NotSame(first.XtX, second.XtX);
        Assert.Same(second.XtX, third.XtX);
        Assert.Equal(first.XtX, second.XtX);

        // Another threshold splits early and chronic elsewhere: another design.
        var otherThreshold = First(query with { ChronicFromWeeks = 52 });
        Assert.NotSame(second.XtX, otherThreshold.XtX);

        var calls = 0;
        Assert.Null(snapshot.Repeated("test-design", _ => new object[] { ++calls }));
        var kept = snapshot.Repeated("test-design", _ => new object[] { ++calls });
        Assert.Same(kept, snapshot.Repeated("test-design", _ => new object[] { ++calls }));
        Assert.Equal(1, calls);
    }
}

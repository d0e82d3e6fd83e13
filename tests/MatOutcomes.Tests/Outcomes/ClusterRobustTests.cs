using MathNet.Numerics.LinearAlgebra;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>Cluster-robust (CR2, by clinic) intervals of the adjusted difference: equal to the
/// textbook computation on individual rows, and covering a planted effect when clinics differ,
/// where the classical interval does not.</summary>
public class ClusterRobustTests(ITestOutputHelper output)
{
    private const double TrueEffect = 1.0;
    private static readonly ComplaintRegion[] Regions = Enum.GetValues<ComplaintRegion>();
    private static readonly AgeBand[] Ages = Enum.GetValues<AgeBand>();

    private sealed record Row(string Clinic, bool Early, ComplaintRegion Region, AgeBand Age, OccupationGroup Occupation, int Baseline, int Latest);

    /// <summary>Clinics that differ in their share of early patients and in how much their patients
    /// improve (a clinic effect of SD <paramref name="clinicSd"/>), with the case-mix confounding of
    /// <see cref="PlantedEffectTests"/>.</summary>
    private static List<Row> Simulate(Random random, int clinics, int perClinic, double clinicSd)
    {
        var rows = new List<Row>();
        for (var c = 0; c < clinics; c++)
        {
            var earlyShare = 0.15 + 0.7 * random.NextDouble();
            var clinicEffect = Normal(random, clinicSd);
            for (var i = 0; i < perClinic; i++)
            {
                var early = random.NextDouble() < earlyShare;
                var region = early && random.NextDouble() < 0.4 ? ComplaintRegion.Neck : Regions[random.Next(Regions.Length)];
                var age = Ages[random.Next(Ages.Length)];
                var occupation = random.NextDouble() < 0.5 ? OccupationGroup.DeskStressful : OccupationGroup.RepetitiveManual;
                var baseline = Math.Clamp(6 + (early ? 1 : 0) + random.Next(-2, 3), 2, 10);
                var latent = 1.5 + TrueEffect * (early ? 1 : 0) + 0.4 * (baseline - 6) + (region == ComplaintRegion.Neck ? 0.8 : 0)
                             + 0.1 * Array.IndexOf(Ages, age) + (occupation == OccupationGroup.RepetitiveManual ? -0.5 : 0)
                             + clinicEffect + Normal(random, 1.3);
                rows.Add(new Row($"clinic-{c:00}", early, region, age, occupation, baseline, Math.Clamp(baseline - (int)Math.Round(latent), 0, 10)));
            }
        }
        return rows;
    }

    private static double Normal(Random random, double sd) =>
        sd * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static AdjustedEstimate Served(IEnumerable<Row> rows) =>
        StudyCalculator.Compare(Snapshot(rows), new StudyQuery(), 11).AdjustedDurableChangeDifference;

    private static CubeSnapshot Snapshot(IEnumerable<Row> rows) =>
        Cubes.Of(rows.Select(r => new Contribution(
            new CellKey(r.Clinic, "2026Q1", FormatClass.StandaloneMat, true, r.Early ? PainDuration.Under6 : PainDuration.From26To51,
                r.Region, r.Occupation, r.Age, Sex.Female),
            r.Baseline, r.Latest, r.Latest, null, null, null, null, null, 4, Cubes.NeverReached(r.Baseline), false, false)));

    [Fact]
    public void Studies_that_differ_only_in_their_mcid_share_the_design_half_of_cr2_and_answer_as_if_computed_afresh()
    {
        var rows = Simulate(new Random(11), clinics: 8, perClinic: 80, clinicSd: 0.7);
        var shared = Snapshot(rows);
        var first = new StudyQuery { NprsMcidPoints = 2 };
        var second = first with { NprsMcidPoints = 3, NprsMcidPercent = 50 };

        StudyCalculator.Compare(shared, first, 11);
        var reused = StudyCalculator.Compare(shared, second, 11);
        var afresh = StudyCalculator.Compare(Snapshot(rows), second, 11);

        // Exactly equal, not close: the remembered half is what would have been computed again,
        // and each outcome's own half (its residuals) is not remembered.
        Assert.Equal(afresh.AdjustedDurableChangeDifference, reused.AdjustedDurableChangeDifference);
        Assert.Equal(afresh.AdjustedResponderDifference, reused.AdjustedResponderDifference);
        Assert.NotEqual(StudyCalculator.Compare(shared, first, 11).AdjustedResponderDifference, reused.AdjustedResponderDifference);
    }

    [Fact]
    public void A_remembered_leverage_of_another_design_is_never_used()
    {
        var rows = Simulate(new Random(12), clinics: 5, perClinic: 60, clinicSd: 0.7);
        var other = Simulate(new Random(13), clinics: 5, perClinic: 60, clinicSd: 0.7);
        (AdjustedEstimate Change, AdjustedEstimate Responder) Fit(IEnumerable<Row> data, Func<string, Func<ClusterRobust.Leverage>, ClusterRobust.Leverage>? remember)
        {
            var snapshot = Snapshot(data);
            var query = new StudyQuery().Effective;
            var clinics = StudyCalculator.ClinicModels(snapshot, new CellFilter(query, snapshot), query);
            var network = new ModelSums();
            foreach (var c in clinics.Values) network.Add(c);
            var models = new[] { AdjustedModel.Fit(network, ModelOutcome.Change), AdjustedModel.Fit(network, ModelOutcome.Responder) };
            var effects = AdjustedModel.EarlyEffects(models, 11, false, StudyCalculator.ByClinicId(snapshot, clinics), remember);
            return (effects[0], effects[1]);
        }

        // A leverage remembered for one design, offered under any key to a study of another design.
        ClusterRobust.Leverage? stale = null;
        Fit(other, (_, make) => stale = make());
        var offered = Fit(rows, (_, _) => stale!);

        Assert.NotNull(stale);
        Assert.Equal(Fit(rows, null), offered);
    }

    /// <summary>Intercept, early, region, age and occupation dummies that have data, baseline.</summary>
    private static (Matrix<double> X, Vector<double> Y, int Early) Design(IReadOnlyList<Row> rows)
    {
        var full = rows.Select(r => new[] { 1.0, r.Early ? 1 : 0 }
            .Concat(Regions.Skip(1).Select(g => r.Region == g ? 1.0 : 0))
            .Concat(Ages.Skip(1).Select(a => r.Age == a ? 1.0 : 0))
            .Append(r.Occupation == OccupationGroup.RepetitiveManual ? 1 : 0)
            .Append(r.Baseline).ToArray()).ToList();
        var used = Enumerable.Range(0, full[0].Length).Where(c => full.Any(r => r[c] != 0)).ToArray();
        return (Matrix<double>.Build.DenseOfRows(full.Select(r => used.Select(c => r[c]))),
            Vector<double>.Build.DenseOfEnumerable(rows.Select(r => (double)(r.Baseline - r.Latest))), 1);
    }

    [Fact]
    public void Cr2_from_per_clinic_sums_equals_cr2_on_individual_rows_even_when_a_clinic_alone_holds_a_level()
    {
        var rows = Simulate(new Random(5), clinics: 6, perClinic: 60, clinicSd: 0.7);
        // Clinic 99's two episodes are the only mixed-region ones: their leverage is 1 on that
        // dummy, so I − H_gg is singular and the pseudo-inverse convention is exercised.
        rows.Add(new Row("clinic-99", true, ComplaintRegion.Mixed, AgeBand.From40To49, OccupationGroup.DeskStressful, 7, 3));
        rows.Add(new Row("clinic-99", false, ComplaintRegion.Mixed, AgeBand.From50To59, OccupationGroup.RepetitiveManual, 6, 5));
        rows = [.. rows.Where(r => r.Region != ComplaintRegion.Mixed || r.Clinic == "clinic-99")];

        var served = Served(rows);
        var (x, y, early) = Design(rows);
        var robust = Textbook.Cr2(x, y, [.. rows.Select(r => r.Clinic)]);

        Assert.Equal(7, served.ClusterRobust.Clusters);
        Assert.Equal(Math.Sqrt(robust[early, early]), served.ClusterRobust.StandardError!.Value, 10);
        Assert.Equal(Textbook.Ols(x, y).Se[early], served.Classical.StandardError!.Value, 10);
    }

    [Fact]
    public void A_study_of_one_clinic_headlines_the_classical_interval_as_there_is_no_second_clinic_to_cluster_by()
    {
        var estimate = Served(Simulate(new Random(3), clinics: 1, perClinic: 200, clinicSd: 0.7));

        Assert.Equal(InferenceKind.Classical, estimate.Inference);
        Assert.Equal((estimate.Classical.StandardError, estimate.Classical.Lower, estimate.Classical.Upper), (estimate.StandardError, estimate.Lower, estimate.Upper));
        Assert.Equal(new Inference(null, null, null, null, 1, false), estimate.ClusterRobust);
    }

    [Fact]
    public void With_clinic_effects_the_cr2_interval_covers_the_planted_effect_about_95_percent_of_the_time_and_the_classical_one_does_not()
    {
        const int repetitions = 300;
        var random = new Random(2026);
        int robust = 0, classical = 0;
        for (var r = 0; r < repetitions; r++)
        {
            var estimate = Served(Simulate(random, clinics: 12, perClinic: 80, clinicSd: 0.8));
            Assert.Equal(InferenceKind.ClusterRobust, estimate.Inference);
            if (estimate.ClusterRobust.Lower <= TrueEffect && TrueEffect <= estimate.ClusterRobust.Upper) robust++;
            if (estimate.Classical.Lower <= TrueEffect && TrueEffect <= estimate.Classical.Upper) classical++;
        }
        output.WriteLine($"coverage over {repetitions} repetitions: CR2 {(double)robust / repetitions:P1}, classical {(double)classical / repetitions:P1}");
        // 300 repetitions: a true 95% coverage lands in [0.91, 0.99] with probability > 99%.
        Assert.InRange((double)robust / repetitions, 0.91, 0.99);
        Assert.True((double)classical / repetitions < 0.85, $"classical coverage {(double)classical / repetitions:P1}");
    }
}

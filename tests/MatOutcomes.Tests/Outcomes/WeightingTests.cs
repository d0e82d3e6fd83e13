using MathNet.Numerics.Distributions;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>Propensity-score weighting on a simulation whose propensity really is logistic in the
/// model's covariates: the weights balance the confounders, and the 95% CI covers the true
/// average effect of being early (computed exactly from the simulation's model) about 95% of the time.</summary>
public class WeightingTests(ITestOutputHelper output)
{
    private const double Noise = 1.3;
    private const double NeckShare = 0.35;

    private static double Propensity(int baseline, bool neck) => 1 / (1 + Math.Exp(-(-0.4 + 0.35 * (baseline - 6) + 0.9 * (neck ? 1 : 0))));

    private static double MeanLatent(int baseline, bool neck, bool early) => 1.2 + (early ? 1 : 0) + 0.4 * (baseline - 6) + (neck ? 0.8 : 0);

    /// <summary>E[baseline − latest] with latest = clamp(baseline − round(latent), 0, 10): the
    /// clamping makes the effect of being early vary a little with baseline.</summary>
    private static double ExpectedChange(int baseline, bool neck, bool early)
    {
        var m = MeanLatent(baseline, neck, early);
        var total = 0.0;
        for (var j = -30; j <= 30; j++)
            total += Math.Clamp(j, baseline - 10, baseline) * (Normal.CDF(m, Noise, j + 0.5) - Normal.CDF(m, Noise, j - 0.5));
        return total;
    }

    /// <summary>The average effect over the population (baseline uniform on 3–10, neck with 35%).</summary>
    private static double TrueEffect() =>
        Enumerable.Range(3, 8).Sum(b => new[] { true, false }.Sum(neck =>
            (neck ? NeckShare : 1 - NeckShare) / 8 * (ExpectedChange(b, neck, true) - ExpectedChange(b, neck, false))));

    private static IEnumerable<Contribution> Simulate(Random random, int episodes)
    {
        for (var i = 0; i < episodes; i++)
        {
            var baseline = random.Next(3, 11);
            var neck = random.NextDouble() < NeckShare;
            var early = random.NextDouble() < Propensity(baseline, neck);
            var latent = MeanLatent(baseline, neck, early) + Noise * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            var latest = Math.Clamp(baseline - (int)Math.Round(latent, MidpointRounding.AwayFromZero), 0, 10);
            var key = new CellKey("clinic-01", "2026Q1", FormatClass.StandaloneMat, true, early ? PainDuration.Under6 : PainDuration.From26To51,
                neck ? ComplaintRegion.Neck : ComplaintRegion.LowBack, OccupationGroup.DeskStressful, AgeBand.From40To49, Sex.Female);
            yield return new Contribution(key, baseline, latest, latest, null, null, null, null, null, 4, Cubes.NeverReached(baseline), false, false);
        }
    }

    [Fact]
    public void Studies_that_differ_only_in_their_mcid_share_the_propensity_fit_and_answer_as_if_fitted_afresh()
    {
        var contributions = Simulate(new Random(21), 2_000).ToList();
        var shared = Cubes.Of(contributions);
        var first = new StudyQuery { NprsMcidPoints = 2 };
        var second = first with { NprsMcidPoints = 4, NprsMcidPercent = 10 };

        var firstAnswer = StudyCalculator.Compare(shared, first, 11).PropensityWeighted;
        var reused = StudyCalculator.Compare(shared, second, 11).PropensityWeighted;
        var afresh = StudyCalculator.Compare(Cubes.Of(contributions), second, 11).PropensityWeighted;

        Assert.False(reused.Suppressed);
        // Exactly equal, not close: the remembered fit is what would be fitted again, and the
        // weighted outcomes, their intervals and the balance table are the study's own.
        Assert.Equal(afresh.DurableChange, reused.DurableChange);
        Assert.Equal(afresh.Responders, reused.Responders);
        Assert.Equal((afresh.Early, afresh.Chronic, afresh.N, afresh.Parameters), (reused.Early, reused.Chronic, reused.N, reused.Parameters));
        Assert.Equal(afresh.Balance, reused.Balance);
        Assert.NotEqual(firstAnswer.Responders, reused.Responders);
    }

    [Fact]
    public void The_weighted_95_percent_ci_covers_the_true_average_effect_in_about_95_percent_of_repetitions_and_the_weights_balance()
    {
        const int repetitions = 400;
        var truth = TrueEffect();
        var random = new Random(11);
        int covered = 0;
        double bias = 0, before = 0, after = 0;
        for (var r = 0; r < repetitions; r++)
        {
            var weighted = StudyCalculator.Compare(Cubes.Of(Simulate(random, 1500)), new StudyQuery(), 11).PropensityWeighted;
            var estimate = weighted.DurableChange;
            Assert.Equal(InferenceKind.Classical, estimate.Inference);
            if (estimate.Lower <= truth && truth <= estimate.Upper) covered++;
            bias += estimate.Estimate!.Value - truth;
            var neck = weighted.Balance.Single(b => b.Level == "neck");
            var baseline = weighted.Balance.Single(b => b.Covariate == "baselineNprs");
            before += Math.Abs(neck.SmdBefore!.Value) + Math.Abs(baseline.SmdBefore!.Value);
            after += Math.Abs(neck.SmdAfter!.Value) + Math.Abs(baseline.SmdAfter!.Value);
        }
        var coverage = (double)covered / repetitions;
        output.WriteLine($"true effect {truth:F4}; coverage {coverage:P1}; mean bias {bias / repetitions:F4}; mean |SMD| before {before / (2 * repetitions):F3}, after {after / (2 * repetitions):F4}");
        // 400 repetitions: a true 95% coverage lands in [0.915, 0.985] with probability > 99.5%.
        Assert.InRange(coverage, 0.915, 0.985);
        Assert.InRange(bias / repetitions, -0.03, 0.03);
        // The confounders are imbalanced before weighting and balanced after.
        Assert.True(before / (2 * repetitions) > 0.2);
        Assert.True(after / (2 * repetitions) < 0.02);
    }
}

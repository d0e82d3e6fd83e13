using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>A simulation with a known true early-versus-chronic effect, confounded the way real
/// early and chronic patients differ (early ones start with more pain and more often have neck
/// pain, and those both change the outcome). The raw difference is biased; the risk-adjusted
/// estimate's 95% CI must cover the truth in about 95% of repetitions.</summary>
public class PlantedEffectTests(ITestOutputHelper output)
{
    private const double TrueEffect = 1.0;
    private const int Repetitions = 400;
    private const int Patients = 1200;

    private static readonly ComplaintRegion[] Regions = Enum.GetValues<ComplaintRegion>();
    private static readonly AgeBand[] Ages = Enum.GetValues<AgeBand>();

    private static CubeSnapshot Simulate(Random random)
    {
        var contributions = new List<Contribution>();
        for (var i = 0; i < Patients; i++)
        {
            var early = random.NextDouble() < 0.45;
            var region = early && random.NextDouble() < 0.4 ? ComplaintRegion.Neck : Regions[random.Next(Regions.Length)];
            var age = Ages[random.Next(Ages.Length)];
            var sex = random.NextDouble() < 0.55 ? Sex.Female : Sex.Male;
            var occupation = random.NextDouble() < 0.5 ? OccupationGroup.DeskStressful : OccupationGroup.RepetitiveManual;
            var baseline = Math.Clamp(6 + (early ? 1 : 0) + random.Next(-2, 3), 2, 10);

            // The true model: change = 1.5 + effect·early + 0.4·(baseline − 6) + region and age effects + noise.
            var latent = 1.5 + TrueEffect * (early ? 1 : 0) + 0.4 * (baseline - 6)
                         + (region == ComplaintRegion.Neck ? 0.8 : 0) + 0.1 * Array.IndexOf(Ages, age)
                         + (occupation == OccupationGroup.RepetitiveManual ? -0.5 : 0) + Normal(random, 1.3);
            var latest = Math.Clamp(baseline - (int)Math.Round(latent), 0, 10);

            var key = new CellKey("clinic-01", "2026Q1", FormatClass.StandaloneMat, true,
                early ? PainDuration.Under6 : PainDuration.From26To51, region, occupation, age, sex);
            contributions.Add(new Contribution(key, baseline, latest, latest, null, null, null, null, null, 4,
                Cubes.NeverReached(baseline), false, false));
        }
        return Cubes.Of(contributions);
    }

    private static double Normal(Random random, double sd) =>
        sd * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    [Fact]
    public void The_adjusted_95_percent_ci_covers_the_planted_effect_in_about_95_percent_of_repetitions()
    {
        var random = new Random(1125);
        var covered = 0;
        var rawBias = 0.0;
        for (var r = 0; r < Repetitions; r++)
        {
            var result = StudyCalculator.Compare(Simulate(random), new StudyQuery(), k: 11);
            var adjusted = result.AdjustedDurableChangeDifference;
            if (adjusted.Lower <= TrueEffect && TrueEffect <= adjusted.Upper) covered++;
            rawBias += result.DurableChangeDifference.Estimate!.Value - TrueEffect;
        }

        var coverage = (double)covered / Repetitions;
        output.WriteLine($"coverage {coverage:P1} over {Repetitions} repetitions; mean raw (unadjusted) bias {rawBias / Repetitions:F3}");
        // 400 repetitions: a true 95% coverage lands in [0.915, 0.985] with probability > 99.5%.
        Assert.InRange(coverage, 0.915, 0.985);
        // And the confounding is real: the raw difference misses the truth by far more than chance.
        Assert.True(Math.Abs(rawBias / Repetitions) > 0.3, $"raw bias {rawBias / Repetitions}");
    }

    [Fact]
    public void A_study_of_one_region_still_gets_an_adjusted_estimate_once_the_constant_region_column_is_dropped()
    {
        var result = StudyCalculator.Compare(Simulate(new Random(7)), new StudyQuery { Regions = [ComplaintRegion.Neck] }, 11);

        Assert.False(result.Suppressed);
        Assert.NotNull(result.AdjustedDurableChangeDifference.Estimate);
        Assert.InRange(result.AdjustedDurableChangeDifference.Estimate!.Value, TrueEffect - 1, TrueEffect + 1);
    }
}

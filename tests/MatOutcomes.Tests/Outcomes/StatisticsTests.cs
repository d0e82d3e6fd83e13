using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>The formulas against published worked examples.</summary>
public class StatisticsTests
{
    [Fact]
    public void Wilson_interval_matches_Newcombe_1998_for_81_of_263()
    {
        var (lower, upper) = Statistics.Wilson(81, 263);
        Assert.Equal(0.2553, lower, 4);
        Assert.Equal(0.3662, upper, 4);
    }

    [Fact]
    public void Risk_difference_interval_matches_Newcombe_1998_method_10_for_56_of_70_against_48_of_80()
    {
        var rd = Statistics.RiskDifference(Statistics.Proportion(56, 70, 11), Statistics.Proportion(48, 80, 11));
        Assert.Equal(0.2, rd.Estimate!.Value, 10);
        Assert.Equal(0.0524, rd.Lower!.Value, 4);
        Assert.Equal(0.3339, rd.Upper!.Value, 4);
    }

    [Fact]
    public void Nnt_is_the_reciprocal_of_the_risk_difference_and_its_ci_runs_through_infinity_when_the_rd_ci_spans_zero()
    {
        var clear = Statistics.Nnt(new DifferenceEstimate(0.2, 0.1, 0.25, null, false));
        var spanning = Statistics.Nnt(new DifferenceEstimate(0.05, -0.05, 0.2, null, false));

        Assert.Equal((5, 4, 10, false), (clear.Estimate!.Value, clear.Lower!.Value, clear.Upper!.Value, clear.CiIncludesInfinity));
        Assert.True(spanning.CiIncludesInfinity);
        Assert.Equal((20, 5, -20), (spanning.Estimate!.Value, spanning.Lower!.Value, spanning.Upper!.Value));
    }

    [Fact]
    public void Kaplan_meier_matches_a_hand_worked_curve()
    {
        // 12 patients: events after 1,1,2,3 sessions; censored after 2,4,4; the rest (5) improve after 5.
        var events = new Dictionary<int, long> { [1] = 2, [2] = 1, [3] = 1, [5] = 5 };
        var censored = new Dictionary<int, long> { [2] = 1, [4] = 2 };

        var km = Survival.KaplanMeier(events, censored, k: 1);

        // S(1) = 10/12; S(2) = S(1)·9/10; S(3) = S(2)·7/8; S(4) = S(3); S(5) = 0.
        double[] expected = [10.0 / 12, 10.0 / 12 * 9 / 10, 10.0 / 12 * 9 / 10 * 7 / 8, 10.0 / 12 * 9 / 10 * 7 / 8, 0];
        Assert.Equal([1, 2, 3, 4, 5], km.Curve.Select(p => p.Sessions));
        Assert.Equal([12L, 10, 8, 7, 5], km.Curve.Select(p => p.AtRisk));
        foreach (var (e, p) in expected.Zip(km.Curve)) Assert.Equal(e, p.Survival, 12);
        Assert.Equal(5, km.MedianSessions);
    }

    [Fact]
    public void Welch_degrees_of_freedom_follow_welch_satterthwaite()
    {
        var a = new MeanEstimate(10, 5, 2, null, null, false);
        var b = new MeanEstimate(20, 3, 1, null, null, false);
        var welch = Statistics.Welch(a, b);
        var va = 4.0 / 10; var vb = 1.0 / 20;
        Assert.Equal(Math.Pow(va + vb, 2) / (va * va / 9 + vb * vb / 19), welch.DegreesOfFreedom!.Value, 10);
        Assert.Equal(2, welch.Estimate!.Value, 12);
    }

    [Fact]
    public void Fewer_than_k_patients_withhold_every_number()
    {
        var below = Statistics.Mean(10, 30, 100, k: 11);
        var at = Statistics.Mean(11, 33, 110, k: 11);
        Assert.True(below.Suppressed);
        Assert.Null(below.Mean);
        Assert.False(at.Suppressed);
        Assert.Equal(3, at.Mean);
    }

    [Fact]
    public void The_median_ci_opens_when_the_lower_band_reaches_one_half_and_closes_when_the_upper_band_does()
    {
        var events = Enumerable.Range(1, 10).ToDictionary(t => t, t => (long)(30 - 2 * t));
        var km = Survival.KaplanMeier(events, new Dictionary<int, long> { [3] = 20, [6] = 10 }, k: 11);

        var firstLower = km.Curve.First(p => p.Lower <= 0.5).Sessions;
        var firstUpper = km.Curve.First(p => p.Upper <= 0.5).Sessions;
        Assert.Equal(firstLower, km.MedianLower);
        Assert.Equal(firstUpper, km.MedianUpper);
        Assert.InRange(km.MedianSessions!.Value, km.MedianLower!.Value, km.MedianUpper!.Value);
        Assert.True(km.MedianLower < km.MedianUpper);
    }
}

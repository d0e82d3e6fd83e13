using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Tests.Support;

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
        // The step curve first reaches one half at 5; drawn linearly across the fifth session it
        // falls from S(4) = 0.65625 to 0 and crosses one half at 4 + 0.15625 / 0.65625.
        Assert.Equal(5, km.MedianSessionsStep);
        Assert.Equal(4 + 0.15625 / 0.65625, km.MedianSessions!.Value, 12);
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
    public void The_median_ci_opens_where_the_interpolated_lower_band_reaches_one_half_and_closes_where_the_upper_band_does()
    {
        var events = Enumerable.Range(1, 10).ToDictionary(t => t, t => (long)(30 - 2 * t));
        var km = Survival.KaplanMeier(events, new Dictionary<int, long> { [3] = 20, [6] = 10 }, k: 11);

        var firstLower = km.Curve.First(p => p.Lower <= 0.5).Sessions;
        var firstUpper = km.Curve.First(p => p.Upper <= 0.5).Sessions;
        Assert.InRange(km.MedianLower!.Value, firstLower - 1, firstLower);
        Assert.InRange(km.MedianUpper!.Value, firstUpper - 1, firstUpper);
        Assert.Equal(Textbook.Interpolated([.. km.Curve.Select(p => (p.Sessions, p.Lower!.Value))])!.Value, km.MedianLower.Value, 12);
        Assert.Equal(Textbook.Interpolated([.. km.Curve.Select(p => (p.Sessions, p.Upper!.Value))])!.Value, km.MedianUpper.Value, 12);
        Assert.InRange(km.MedianSessions!.Value, km.MedianLower.Value, km.MedianUpper.Value);
        Assert.True(km.MedianLower < km.MedianUpper);
    }

    [Fact]
    public void A_median_the_step_curve_pins_to_one_session_gets_an_interval_that_keeps_its_width()
    {
        // 200 episodes: 30 improve after 1 session, 50 after 2, 100 after 3, 20 stop after 4 without.
        var km = Survival.KaplanMeier(new Dictionary<int, long> { [1] = 30, [2] = 50, [3] = 100 }, new Dictionary<int, long> { [4] = 20 }, k: 11);

        // On the step curve alone both band edges first reach one half at 3 sessions: "[3, 3]".
        Assert.Equal((3, 3), (km.Curve.First(p => p.Lower <= 0.5).Sessions, km.Curve.First(p => p.Upper <= 0.5).Sessions));
        Assert.Equal(3, km.MedianSessionsStep);
        // Interpolated: S falls from 0.6 to 0.1 across the third session and crosses one half at 2.2;
        // the band edges cross it on either side.
        Assert.Equal(2.2, km.MedianSessions!.Value, 12);
        Assert.InRange(km.MedianLower!.Value, 2, km.MedianSessions.Value);
        Assert.InRange(km.MedianUpper!.Value, km.MedianSessions.Value, 3);
        // Worked by hand: lower edge 0.5286 → 0.0634 and upper edge 0.6641 → 0.1463 across the third session.
        Assert.Equal(2.0615, km.MedianLower.Value, 4);
        Assert.Equal(2.3169, km.MedianUpper.Value, 4);
    }

    [Fact]
    public void An_episode_whose_first_pre_session_score_already_meets_the_mcid_reaches_it_after_0_sessions()
    {
        // Baseline 6 at intake; 3 before the first session (3 points, 50%): improved before any treatment.
        var contribution = Contribution.Of("clinic-01", Treated(baseline: 6, preSessionScores: [3, 2, 2]))!;
        Assert.Equal(0, contribution.SessionsToMcid);
        Assert.Equal(3, contribution.SessionsReceived);

        // Twelve such episodes and twelve that never improve: half improved at 0 sessions.
        var never = Contribution.Of("clinic-01", Treated(baseline: 6, preSessionScores: [6, 6, 5]))!;
        var km = StudyCalculator.Compare(Cubes.Of([.. Enumerable.Repeat(contribution, 12), .. Enumerable.Repeat(never, 12)]),
            new StudyQuery(), 11).Early.SessionsToMcid;
        Assert.Equal((0, 24L, 12L), (km.Curve[0].Sessions, km.Curve[0].AtRisk, km.Curve[0].Events));
        Assert.Equal(0, km.MedianSessions);
        Assert.Equal(0, km.MedianSessionsStep);
    }

    private static Episode Treated(int baseline, int[] preSessionScores)
    {
        var opened = new DateOnly(2026, 3, 2);
        var id = Guid.NewGuid();
        var position = 1;
        var episode = Episode.Fold(null, id, Guid.NewGuid(), position++, new EpisodeOpened("P-000001", opened,
            ComplaintRegion.LowBack, null, 3, OccupationGroup.DeskStressful, AgeBand.From40To49, Sex.Female, baseline, null, null));
        foreach (var (score, i) in preSessionScores.Select((score, i) => (score, i)))
            episode = Episode.Fold(episode, id, Guid.NewGuid(), position++, new SessionRecorded(opened.AddDays(7 * (i + 1)),
                "PR-01", SessionFormat.StandaloneMat, [Technique.MuscleLengthening], [ComplaintRegion.LowBack], 45, score, Math.Max(0, score - 1)));
        return Episode.Fold(episode, id, Guid.NewGuid(), position,
            new EpisodeDischarged(opened.AddDays(7 * (preSessionScores.Length + 1)), DischargeReason.GoalsMet))!;
    }

    [Fact]
    public void The_follow_up_window_is_nearest_rank_quartiles_of_the_weeks_and_is_withheld_under_k()
    {
        int[] weeks = [2, 4, 4, 6, 6, 6, 8, 12, 12, 26, 52, 110];
        var histogram = new long[Slots.MaxFollowUpWeeks + 1];
        foreach (var w in weeks) histogram[Math.Min(w, Slots.MaxFollowUpWeeks)]++;

        // Ranks ⌈12/4⌉ = 3, ⌈12/2⌉ = 6, ⌈3·12/4⌉ = 9 of the sorted weeks.
        Assert.Equal(new WeeksWindow(12, 4, 6, 12, false), TimePoints.Window(histogram, 11));
        Assert.Equal(new WeeksWindow(null, null, null, null, true), TimePoints.Window(histogram, 13));
    }

    /// <summary>metafor's own test of escalc(measure = "SMD") on dat.normand1999, studies 1–4
    /// (n, mean, SD of the two groups): g and its sampling variance to 4 decimals.</summary>
    [Theory]
    [InlineData(155, 55, 47, 156, 75, 64, -0.3552, 0.0131)]
    [InlineData(31, 27, 7, 32, 29, 4, -0.3479, 0.0645)]
    [InlineData(75, 64, 17, 71, 119, 29, -2.3176, 0.0458)]
    [InlineData(18, 66, 20, 18, 137, 48, -1.8880, 0.1606)]
    public void Hedges_g_and_its_variance_match_metafor_escalc_smd(int n1, double m1, double sd1, int n2, double m2, double sd2, double g, double variance)
    {
        var served = Statistics.HedgesG(new MeanEstimate(n1, m1, sd1, null, null, false), new MeanEstimate(n2, m2, sd2, null, null, false));
        Assert.Equal(g, served.Estimate!.Value, 4);
        var se = (served.Upper!.Value - served.Lower!.Value) / (2 * Statistics.Z);
        Assert.Equal(variance, se * se, 4);
        Assert.Equal(Textbook.HedgesJ(n1 + n2 - 2), Statistics.HedgesCorrection(n1 + n2 - 2), 12);
    }
}

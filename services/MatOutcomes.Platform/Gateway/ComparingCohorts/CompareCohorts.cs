using GraphQL;
using GraphQL.Types;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Gateway.ComparingCohorts;

/// <summary>A comparison with the filter it answers and whether it was replayed as of an earlier sequence.</summary>
public sealed record ComparisonResult(CohortComparison Comparison, StudyQuery Query, bool Live, int Release);

/// <summary>Early versus chronic, Kaplan–Meier time to improvement and clinic benchmarks: three
/// views of one <see cref="StudyCalculator.Compare"/>, computed once per filter and request.</summary>
public static class CompareCohorts
{
    public static void AddTo(ObjectGraphType query)
    {
        query.Field<NonNullGraphType<CohortComparisonGraphType>>("cohortComparison")
            .Description("Early versus chronic for the filter: every outcome per cohort with CIs, differences, NNT, risk-adjusted " +
                         "differences and clinic benchmarks, from summed cells (cost grows with cells, not events).")
            .Argument<StudyFilterInputGraphType>("filter", "Which episodes, the chronic threshold and the MCIDs.")
            .Argument<LongGraphType>("asOf", "Ask an earlier release again: its `sequence` (from an earlier result, or `releases`). Other sequences are refused.")
            .ResolveAsync(async c => (object?)await ResolveAsync(c));

        query.Field<NonNullGraphType<TimeToImprovementGraphType>>("kaplanMeier")
            .Description("Kaplan–Meier curves of sessions until NPRS first improves by the filter's NPRS MCID (`nprsMcidPoints` and " +
                         "`nprsMcidPercent`, default 2 points and 30%), per cohort, with Greenwood / log(−log) bands and median sessions; " +
                         "each curve stops where fewer than k remain at risk.")
            .Argument<StudyFilterInputGraphType>("filter", "Which episodes, the chronic threshold and the MCIDs.")
            .Argument<LongGraphType>("asOf", "Ask an earlier release again: its `sequence`.")
            .ResolveAsync(async c => (object?)await ResolveAsync(c));

        query.Field<NonNullGraphType<ClinicBenchmarkingGraphType>>("clinicBenchmarks")
            .Description("FOTO-style benchmarking: each clinic's mean durable NPRS change, observed minus expected under the network's " +
                         "risk-adjustment model (case mix, not clinic), with a 95% interval.")
            .Argument<StudyFilterInputGraphType>("filter", "Which episodes, the chronic threshold and the MCIDs.")
            .Argument<LongGraphType>("asOf", "Ask an earlier release again: its `sequence`.")
            .ResolveAsync(async c => (object?)await ResolveAsync(c));
    }

    private static async Task<ComparisonResult> ResolveAsync(IResolveFieldContext context)
    {
        var query = StudyFilters.Validated(context.GetArgument<StudyQuery?>("filter"));
        var snapshot = await context.SnapshotAsync(context.GetArgument<long?>("asOf"));
        return new ComparisonResult(context.ReadModel().Compare(snapshot, query), query.Effective, snapshot.Live, snapshot.Number);
    }

    internal static void AddProvenance<T>(ObjectGraphType<T> type, Func<T, ComparisonResult> result)
    {
        type.Field<NonNullGraphType<LongGraphType>>("sequence").Description("The last event sequence the figures include: pass it as `asOf` to reproduce them.")
            .Resolve(c => result(c.Source).Comparison.Sequence);
        type.Field<NonNullGraphType<BooleanGraphType>>("replayed").Description("True when computed from an earlier release (asOf), replayed from the event log, rather than the latest release.")
            .Resolve(c => !result(c.Source).Live);
        type.Field<NonNullGraphType<IntGraphType>>("release").Description("The release the figures come from (see `releases`).")
            .Resolve(c => result(c.Source).Release);
        type.Field<NonNullGraphType<ListGraphType<NonNullGraphType<WithheldMeasureGraphType>>>>("withheld")
            .Description("Measures this answer leaves out and why (each figure is judged on its own contributors); empty when nothing is.")
            .Resolve(c => result(c.Source).Comparison.Withheld);
        type.Field<NonNullGraphType<IntGraphType>>("k").Description("The small-cell threshold: no figure stands on fewer than k patients.")
            .Resolve(c => result(c.Source).Comparison.K);
        type.Field<NonNullGraphType<BooleanGraphType>>("suppressed").Description("True when the whole study is withheld: some combination of its restricted dimensions holds fewer than k patients, or changed by fewer than k since the last release that published it.")
            .Resolve(c => result(c.Source).Comparison.Suppressed);
        type.Field<StringGraphType>("suppressionReason").Description("Why the study is withheld, when it is.")
            .Resolve(c => result(c.Source).Comparison.SuppressionReason);
        type.Field<NonNullGraphType<StudyFilterGraphType>>("filter").Description("The filter the figures answer, defaults filled in.")
            .Resolve(c => result(c.Source).Query);
    }
}

public sealed class CohortComparisonGraphType : ObjectGraphType<ComparisonResult>
{
    public CohortComparisonGraphType()
    {
        Name = "CohortComparison";
        Description = "Early versus chronic for one filter. Differences are early minus chronic; positive change means less pain.";
        CompareCohorts.AddProvenance(this, r => r);
        Field<NonNullGraphType<CohortOutcomesGraphType>>("early").Description("Pain for less than the chronic threshold.").Resolve(c => c.Source.Comparison.Early);
        Field<NonNullGraphType<CohortOutcomesGraphType>>("chronic").Description("Pain for at least the chronic threshold.").Resolve(c => c.Source.Comparison.Chronic);
        Field<NonNullGraphType<CohortOutcomesGraphType>>("acute").Description("Pain for less than 6 weeks.").Resolve(c => c.Source.Comparison.Acute);
        Field<NonNullGraphType<CohortOutcomesGraphType>>("subacute").Description("Pain for 6 to 11 weeks (6 weeks up to the 12-week chronic threshold), whatever threshold the filter sets.").Resolve(c => c.Source.Comparison.Subacute);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("durableChangeDifference").Description("Welch difference in mean durable NPRS change (mixed horizon; see atDischargeDifference and atFollowUpDifference).").Resolve(c => c.Source.Comparison.DurableChangeDifference);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("durableChangeHedgesG").Description("Hedges' g of durable NPRS change.").Resolve(c => c.Source.Comparison.DurableChangeHedgesG);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("ndiChangeDifference").Description("Welch difference in mean NDI change.").Resolve(c => c.Source.Comparison.NdiChangeDifference);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("odiChangeDifference").Description("Welch difference in mean ODI change.").Resolve(c => c.Source.Comparison.OdiChangeDifference);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("responderRiskDifference").Description("Difference in NPRS responder proportions (Newcombe interval).").Resolve(c => c.Source.Comparison.ResponderRiskDifference);
        Field<NonNullGraphType<NntEstimateGraphType>>("numberNeededToTreat").Description("NNT from the responder risk difference.").Resolve(c => c.Source.Comparison.NumberNeededToTreat);
        Field<NonNullGraphType<AdjustedEstimateGraphType>>("adjustedDurableChangeDifference").Description("Risk-adjusted difference in durable NPRS change.").Resolve(c => c.Source.Comparison.AdjustedDurableChangeDifference);
        Field<NonNullGraphType<AdjustedEstimateGraphType>>("adjustedResponderDifference").Description("Risk-adjusted difference in NPRS responder probability (linear probability model).").Resolve(c => c.Source.Comparison.AdjustedResponderDifference);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<ClinicBenchmarkGraphType>>>>("benchmarks").Description("Per-clinic observed minus expected durable NPRS change.")
            .Resolve(c => Counted(c, c.Source.Comparison.Benchmarks));
        Field<NonNullGraphType<TimePointDifferencesGraphType>>("atDischargeDifference").Description("Early minus chronic at discharge (last in-care NPRS).").Resolve(c => c.Source.Comparison.AtDischargeDifference);
        Field<NonNullGraphType<PropensityWeightingGraphType>>("propensityWeighted").Description("The second estimator: early minus chronic by " +
            "propensity-score weighting (IPTW), with its balance table; compare with the regression adjustment.").Resolve(c => c.Source.Comparison.PropensityWeighted);
        Field<NonNullGraphType<TimePointDifferencesGraphType>>("atFollowUpDifference").Description("Early minus chronic at follow-up (last follow-up NPRS after discharge).").Resolve(c => c.Source.Comparison.AtFollowUpDifference);
    }

    internal static IReadOnlyList<T> Counted<T>(IResolveFieldContext context, IReadOnlyList<T> rows)
    {
        context.Gateway().Returned(rows.Count);
        return rows;
    }
}

public sealed class CohortOutcomesGraphType : ObjectGraphType<CohortOutcomes>
{
    public CohortOutcomesGraphType()
    {
        Name = "CohortOutcomes";
        Description = "Every outcome of one cohort. Changes are baseline minus a later score: positive = less pain. Every count is of " +
                      "episodes of care, not people (one patient may have several episodes).";
        Field<NonNullGraphType<StudyCohortGraphType>>("cohort").Description("Which cohort.").Resolve(c => Enum.Parse<StudyCohort>(c.Source.Cohort, ignoreCase: true));
        Field<IntGraphType>("episodes").Description("Episodes of care in the cohort (not people); null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.Episodes);
        Field<IntGraphType>("patients").Description("The same count as `episodes`: it always counted episodes of care, not people.")
            .DeprecationReason("Counts episodes, not people: use `episodes`.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.Episodes);
        Field(x => x.Suppressed).Description("True when the cohort holds fewer than k patients or the study is unsafe.");
        Field<NonNullGraphType<MeanEstimateGraphType>>("immediateRelief").Description("Per-episode mean within-session relief (NPRS before − after).").Resolve(c => c.Source.ImmediateRelief);
        Field<NonNullGraphType<MeanEstimateGraphType>>("durableNprsChange").Description("Baseline NPRS − the latest NPRS after intake, whichever " +
            "came last of a pre-session score, an NPRS outcome measure or a follow-up. Mixed horizon: a follow-up for episodes that have one, " +
            "the last in-care score for the rest; see atDischarge and atFollowUp for fixed time points.").Resolve(c => c.Source.DurableNprsChange);
        Field<NonNullGraphType<MeanEstimateGraphType>>("ndiChange").Description("NDI change (baseline − latest, raw points).").Resolve(c => c.Source.NdiChange);
        Field<NonNullGraphType<MeanEstimateGraphType>>("odiChange").Description("ODI change (baseline − latest, points).").Resolve(c => c.Source.OdiChange);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("nprsResponders").Description("Share whose durable change meets the filter's NPRS MCID (points and percent of baseline).").Resolve(c => c.Source.NprsResponders);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("ndiResponders").Description("Share improving by the NDI MCID.").Resolve(c => c.Source.NdiResponders);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("odiResponders").Description("Share improving by the ODI MCID.").Resolve(c => c.Source.OdiResponders);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("relapseAtFollowUp").Description("Among episodes with a follow-up NPRS and an in-care NPRS, " +
            "the share whose last follow-up NPRS is 2 or more points above their last in-care NPRS (pre-session score or outcome measure).").Resolve(c => c.Source.RelapseAtFollowUp);
        Field<NonNullGraphType<SurvivalEstimateGraphType>>("sessionsToMcid").Description("Kaplan–Meier time (sessions received) to the first NPRS that meets the filter's NPRS MCID: 0 when the " +
            "first pre-session score already meets it; censored at the sessions received when the episode ends without it.").Resolve(c => c.Source.SessionsToMcid);
        Field<NonNullGraphType<TimePointOutcomesGraphType>>("atDischarge").Description("NPRS at discharge: baseline − the last in-care NPRS " +
            "(pre-session score or NPRS outcome measure, never a follow-up). Own n: episodes with any in-care NPRS.").Resolve(c => c.Source.AtDischarge);
        Field<NonNullGraphType<TimePointOutcomesGraphType>>("atFollowUp").Description("NPRS at follow-up: baseline − the last follow-up NPRS " +
            "after discharge, with when follow-ups were taken. Own n: episodes with a follow-up.").Resolve(c => c.Source.AtFollowUp);
    }
}

public sealed class TimePointOutcomesGraphType : ObjectGraphType<TimePointOutcomes>
{
    public TimePointOutcomesGraphType()
    {
        Name = "TimePointOutcomes";
        Description = "NPRS outcomes at one fixed time point, over the episodes with a score at it (its own n).";
        Field<NonNullGraphType<MeanEstimateGraphType>>("nprsChange").Description("Baseline NPRS − the NPRS at this time point.").Resolve(c => c.Source.NprsChange);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("nprsResponders").Description("Share meeting the filter's NPRS MCID at this time point.").Resolve(c => c.Source.NprsResponders);
        Field<FollowUpWindowGraphType>("weeksAfterDischarge").Description("When the follow-ups were taken (follow-up only; null at discharge).").Resolve(c => c.Source.WeeksAfterDischarge);
    }
}

public sealed class FollowUpWindowGraphType : ObjectGraphType<WeeksWindow>
{
    public FollowUpWindowGraphType()
    {
        Name = "FollowUpWindow";
        Description = "Weeks after discharge of the follow-ups: nearest-rank quartiles (104 stands for 104 or more). Quartiles, not the " +
                      "range: the extremes are single episodes' values.";
        Field<IntGraphType>("n").Description("Follow-ups; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field(x => x.LowerQuartile, nullable: true).Description("Weeks by which a quarter of the follow-ups were taken.");
        Field(x => x.Median, nullable: true).Description("Weeks by which half of the follow-ups were taken.");
        Field(x => x.UpperQuartile, nullable: true).Description("Weeks by which three quarters of the follow-ups were taken.");
        Field(x => x.Suppressed).Description("True when fewer than k episodes have a follow-up, or the study is withheld.");
    }
}

public sealed class TimePointDifferencesGraphType : ObjectGraphType<TimePointDifferences>
{
    public TimePointDifferencesGraphType()
    {
        Name = "TimePointDifferences";
        Description = "Early minus chronic at one fixed time point.";
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("nprsChange").Description("Welch difference in mean NPRS change.").Resolve(c => c.Source.NprsChange);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("nprsResponders").Description("Risk difference in NPRS responders (Newcombe interval).").Resolve(c => c.Source.NprsResponders);
    }
}

public sealed class SurvivalEstimateGraphType : ObjectGraphType<SurvivalEstimate>
{
    public SurvivalEstimateGraphType()
    {
        Name = "SurvivalEstimate";
        Description = "Kaplan–Meier estimate of 'not yet improved by the MCID' against sessions received; censored when an episode ends without it.";
        Field<IntGraphType>("n").Description("Episodes in the estimate; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field<IntGraphType>("events").Description("Episodes that reached the MCID; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.Events);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<SurvivalPointGraphType>>>>("curve")
            .Description("One point per session count with an event or censoring, while at least k remain at risk.")
            .Resolve(c => CohortComparisonGraphType.Counted(c, c.Source.Curve));
        Field(x => x.MedianSessions, nullable: true).Description("Median sessions to the MCID, interpolated: where the curve, drawn " +
            "linearly across each session (an event at t sessions happened in (t − 1, t]), first reaches 0.5; 0 when more than half " +
            "improved before their first session. Null when the shown curve does not reach 0.5.");
        Field(x => x.MedianLower, nullable: true).Description("Lower bound of the median's 95% CI (Brookmeyer–Crowley): where the " +
            "interpolated lower band edge first reaches 0.5.");
        Field(x => x.MedianUpper, nullable: true).Description("Upper bound of the median's 95% CI (Brookmeyer–Crowley): where the " +
            "interpolated upper band edge first reaches 0.5; null when it does not while the curve is shown.");
        Field(x => x.MedianSessionsStep, nullable: true).Description("The step curve's median: the first whole session count at which " +
            "survival is 0.5 or less (what a step-function Kaplan–Meier median, such as R's survfit, reports).");
        Field(x => x.Suppressed).Description("True when fewer than k episodes stand behind the curve.");
    }
}

public sealed class SurvivalPointGraphType : ObjectGraphType<SurvivalPoint>
{
    public SurvivalPointGraphType()
    {
        Name = "SurvivalPoint";
        Description = "The Kaplan–Meier estimate after a number of sessions.";
        Field(x => x.Sessions).Description("Sessions received.");
        Field<NonNullGraphType<IntGraphType>>("atRisk").Description("Episodes still at risk (at least k).").Resolve(c => (int)c.Source.AtRisk);
        Field<NonNullGraphType<IntGraphType>>("events").Description("Episodes first reaching the MCID after this many sessions.").Resolve(c => (int)c.Source.Events);
        Field<NonNullGraphType<IntGraphType>>("censored").Description("Episodes ending at this many sessions without reaching it.").Resolve(c => (int)c.Source.Censored);
        Field(x => x.Survival).Description("Estimated share not yet improved.");
        Field(x => x.Lower, nullable: true).Description("Lower bound of the 95% log(−log) band.");
        Field(x => x.Upper, nullable: true).Description("Upper bound of the 95% log(−log) band.");
    }
}

public sealed class ClinicBenchmarkGraphType : ObjectGraphType<ClinicBenchmark>
{
    public ClinicBenchmarkGraphType()
    {
        Name = "ClinicBenchmark";
        Description = "A clinic's mean durable NPRS change against what the network model expects for its case mix.";
        Field(x => x.Clinic).Description("Clinic id.");
        Field<IntGraphType>("n").Description("The clinic's episodes in the study; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field(x => x.Observed, nullable: true).Description("Observed mean durable NPRS change.");
        Field(x => x.Expected, nullable: true).Description("Expected mean under the network's risk-adjustment model.");
        Field(x => x.ObservedMinusExpected, nullable: true).Description("Observed minus expected: positive = better than case mix predicts.");
        Field(x => x.Lower, nullable: true).Description("Lower bound of the 95% interval of observed minus expected.");
        Field(x => x.Upper, nullable: true).Description("Upper bound of the 95% interval of observed minus expected.");
        Field(x => x.Suppressed).Description("True when the clinic holds fewer than k patients, or any clinic would (benchmarks are shown all or none).");
    }
}

public sealed class CohortCurveGraphType : ObjectGraphType<CohortOutcomes>
{
    public CohortCurveGraphType()
    {
        Name = "CohortCurve";
        Description = "One cohort's Kaplan–Meier curve.";
        Field<NonNullGraphType<StudyCohortGraphType>>("cohort").Description("Which cohort.").Resolve(c => Enum.Parse<StudyCohort>(c.Source.Cohort, ignoreCase: true));
        Field<NonNullGraphType<SurvivalEstimateGraphType>>("estimate").Description("The curve and its median.").Resolve(c => c.Source.SessionsToMcid);
    }
}

public sealed class TimeToImprovementGraphType : ObjectGraphType<ComparisonResult>
{
    public TimeToImprovementGraphType()
    {
        Name = "TimeToImprovement";
        Description = "Kaplan–Meier curves of sessions to the NPRS MCID for the early, chronic, acute and subacute cohorts.";
        CompareCohorts.AddProvenance(this, r => r);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<CohortCurveGraphType>>>>("curves").Description("Early, chronic, acute, subacute.")
            .Resolve(c => new[] { c.Source.Comparison.Early, c.Source.Comparison.Chronic, c.Source.Comparison.Acute, c.Source.Comparison.Subacute });
    }
}

public sealed class ClinicBenchmarkingGraphType : ObjectGraphType<ComparisonResult>
{
    public ClinicBenchmarkingGraphType()
    {
        Name = "ClinicBenchmarking";
        Description = "Observed minus expected durable NPRS change per clinic, expected from a network model of baseline NPRS, region, " +
                      "age band, sex, occupation and cohort.";
        CompareCohorts.AddProvenance(this, r => r);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<ClinicBenchmarkGraphType>>>>("clinics").Description("One benchmark per clinic in the study.")
            .Resolve(c => CohortComparisonGraphType.Counted(c, c.Source.Comparison.Benchmarks));
    }
}

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
            .Description("Kaplan–Meier curves of sessions until NPRS first improves by the MCID (2 points and 30%), per cohort, " +
                         "with Greenwood / log(−log) bands and median sessions; each curve stops where fewer than k remain at risk.")
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
        Field<NonNullGraphType<CohortOutcomesGraphType>>("subacute").Description("Early, but pain for at least 6 weeks.").Resolve(c => c.Source.Comparison.Subacute);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("durableChangeDifference").Description("Welch difference in mean durable NPRS change.").Resolve(c => c.Source.Comparison.DurableChangeDifference);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("durableChangeHedgesG").Description("Hedges' g of durable NPRS change.").Resolve(c => c.Source.Comparison.DurableChangeHedgesG);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("ndiChangeDifference").Description("Welch difference in mean NDI change.").Resolve(c => c.Source.Comparison.NdiChangeDifference);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("odiChangeDifference").Description("Welch difference in mean ODI change.").Resolve(c => c.Source.Comparison.OdiChangeDifference);
        Field<NonNullGraphType<DifferenceEstimateGraphType>>("responderRiskDifference").Description("Difference in NPRS responder proportions (Newcombe interval).").Resolve(c => c.Source.Comparison.ResponderRiskDifference);
        Field<NonNullGraphType<NntEstimateGraphType>>("numberNeededToTreat").Description("NNT from the responder risk difference.").Resolve(c => c.Source.Comparison.NumberNeededToTreat);
        Field<NonNullGraphType<AdjustedEstimateGraphType>>("adjustedDurableChangeDifference").Description("Risk-adjusted difference in durable NPRS change.").Resolve(c => c.Source.Comparison.AdjustedDurableChangeDifference);
        Field<NonNullGraphType<AdjustedEstimateGraphType>>("adjustedResponderDifference").Description("Risk-adjusted difference in NPRS responder probability (linear probability model).").Resolve(c => c.Source.Comparison.AdjustedResponderDifference);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<ClinicBenchmarkGraphType>>>>("benchmarks").Description("Per-clinic observed minus expected durable NPRS change.")
            .Resolve(c => Counted(c, c.Source.Comparison.Benchmarks));
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
        Description = "Every outcome of one cohort. Durable change = baseline NPRS − latest NPRS (positive = less pain).";
        Field<NonNullGraphType<StudyCohortGraphType>>("cohort").Description("Which cohort.").Resolve(c => Enum.Parse<StudyCohort>(c.Source.Cohort, ignoreCase: true));
        Field<IntGraphType>("patients").Description("Episodes in the cohort; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.Patients);
        Field(x => x.Suppressed).Description("True when the cohort holds fewer than k patients or the study is unsafe.");
        Field<NonNullGraphType<MeanEstimateGraphType>>("immediateRelief").Description("Per-episode mean within-session relief (NPRS before − after).").Resolve(c => c.Source.ImmediateRelief);
        Field<NonNullGraphType<MeanEstimateGraphType>>("durableNprsChange").Description("Baseline NPRS − latest NPRS.").Resolve(c => c.Source.DurableNprsChange);
        Field<NonNullGraphType<MeanEstimateGraphType>>("ndiChange").Description("NDI change (baseline − latest, raw points).").Resolve(c => c.Source.NdiChange);
        Field<NonNullGraphType<MeanEstimateGraphType>>("odiChange").Description("ODI change (baseline − latest, points).").Resolve(c => c.Source.OdiChange);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("nprsResponders").Description("Share improving by the NPRS MCID (points and percent).").Resolve(c => c.Source.NprsResponders);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("ndiResponders").Description("Share improving by the NDI MCID.").Resolve(c => c.Source.NdiResponders);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("odiResponders").Description("Share improving by the ODI MCID.").Resolve(c => c.Source.OdiResponders);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("relapseAtFollowUp").Description("Share of followed-up episodes whose NPRS rose by 2+ points after discharge.").Resolve(c => c.Source.RelapseAtFollowUp);
        Field<NonNullGraphType<SurvivalEstimateGraphType>>("sessionsToMcid").Description("Kaplan–Meier time (sessions) to first NPRS improvement by the MCID.").Resolve(c => c.Source.SessionsToMcid);
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
        Field(x => x.MedianSessions, nullable: true).Description("Median sessions to the MCID (first time survival ≤ 0.5).");
        Field(x => x.MedianLower, nullable: true).Description("Lower bound of the median's 95% CI (Brookmeyer–Crowley).");
        Field(x => x.MedianUpper, nullable: true).Description("Upper bound of the median's 95% CI (Brookmeyer–Crowley).");
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
        Field<IntGraphType>("n").Description("The clinic's patients in the study; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
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

using GraphQL;
using GraphQL.Types;
using MatOutcomes.Platform.Gateway.ComparingCohorts;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Gateway.FollowingTrends;

public sealed record TrendPoint(string Quarter, long Patients, MeanEstimate DurableNprsChange, ProportionEstimate NprsResponders, bool Suppressed);

public sealed record TrendSeries(StudyCohort Cohort, IReadOnlyList<TrendPoint> Points);

public sealed record OutcomeTrends(long Sequence, bool Live, int K, bool Suppressed, string? SuppressionReason, StudyQuery Query,
    IReadOnlyList<string> Quarters, IReadOnlyList<TrendSeries> Series);

/// <summary>Mean durable NPRS change and responder rate per quarter of episode start, per cohort,
/// summed from cells. Splitting by quarter restricts one more dimension, so the cube rule checks
/// it too: every quarter × restricted-values × duration-band atom must hold no patient or at least
/// k, or nothing is shown (a thin quarter could otherwise be recovered as a total minus the rest).</summary>
public static class Trends
{
    public const string UnsafeTrend =
        "A quarter, crossed with the restricted dimensions and pain-duration bands, holds fewer than k patients; showing the trend would let it be recovered by subtraction.";

    public static OutcomeTrends Compute(IReadOnlyCollection<OutcomeCell> network, StudyQuery query, long sequence, bool live, int k)
    {
        var safe = Suppression.IsSafe(network, query.RestrictedDimensions().Append(key => Quarter(key)), k);
        var cells = network.Where(c => query.Matches(c.Key)).ToList();
        var quarters = cells.Select(c => Quarter(c.Key)).Distinct().Order(StringComparer.Ordinal).ToList();
        var cohorts = new (StudyCohort Cohort, Func<CellKey, bool> Holds)[]
        {
            (StudyCohort.Early, query.IsEarly),
            (StudyCohort.Chronic, key => !query.IsEarly(key)),
            (StudyCohort.Acute, key => key.DurationBand < 6),
            (StudyCohort.Subacute, key => query.IsEarly(key) && key.DurationBand >= 6),
        };

        var series = cohorts.Select(cohort => new TrendSeries(cohort.Cohort, quarters.Select(quarter =>
        {
            var sums = CellSums.Of(cells.Where(c => Quarter(c.Key) == quarter && cohort.Holds(c.Key)));
            var pairs = sums.Pairs().ToList();
            var change = CellSums.MomentsOf(pairs.Select(p => ((double)(p.Baseline - p.Latest), p.Count)));
            var limit = safe ? k : int.MaxValue;
            return new TrendPoint(quarter, sums.Patients,
                Statistics.Mean(change.N, change.Sum, change.SumOfSquares, limit),
                Statistics.Proportion(pairs.Where(p => query.NprsResponder(p.Baseline, p.Latest)).Sum(p => p.Count), change.N, limit),
                !safe || sums.Patients < k);
        }).ToList())).ToList();

        return new OutcomeTrends(sequence, live, k, !safe, safe ? null : UnsafeTrend, query, quarters, series);
    }

    private static string Quarter(CellKey key) => StudyQuery.QuarterOf(key.StartMonth);

    public static void AddTo(ObjectGraphType query) =>
        query.Field<NonNullGraphType<OutcomeTrendsGraphType>>("outcomeTrends")
            .Description("Mean durable NPRS change and NPRS responder rate per quarter of episode start, per cohort, with CIs.")
            .Argument<StudyFilterInputGraphType>("filter", "Which episodes, the chronic threshold and the MCIDs.")
            .Argument<LongGraphType>("asOf", "Recompute as of this event sequence.")
            .ResolveAsync(async context =>
            {
                var filter = StudyFilters.Validated(context.GetArgument<StudyQuery?>("filter"));
                var snapshot = await context.SnapshotAsync(context.GetArgument<long?>("asOf"));
                var trends = Compute(snapshot.Cells, filter, snapshot.Sequence, snapshot.Live, snapshot.K);
                context.Gateway().Returned(trends.Series.Sum(s => s.Points.Count));
                return trends;
            });
}

public sealed class OutcomeTrendsGraphType : ObjectGraphType<OutcomeTrends>
{
    public OutcomeTrendsGraphType()
    {
        Name = "OutcomeTrends";
        Description = "Outcomes by quarter of episode start, one series per cohort; every series has a point for every quarter in `quarters`.";
        Field<NonNullGraphType<LongGraphType>>("sequence").Description("The last event sequence the figures include: pass it as `asOf` to reproduce them.").Resolve(c => c.Source.Sequence);
        Field<NonNullGraphType<BooleanGraphType>>("replayed").Description("True when computed by replaying the event log as of `sequence`.").Resolve(c => !c.Source.Live);
        Field(x => x.K).Description("The small-cell threshold.");
        Field(x => x.Suppressed).Description("True when the whole trend is withheld by the cube rule (quarter included).");
        Field(x => x.SuppressionReason, nullable: true).Description("Why the trend is withheld, when it is.");
        Field<NonNullGraphType<StudyFilterGraphType>>("filter").Description("The filter the figures answer, defaults filled in.").Resolve(c => c.Source.Query);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<StringGraphType>>>>("quarters").Description("Quarters of episode start with any episode of the filter, oldest first (yyyyQn).").Resolve(c => c.Source.Quarters);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<TrendSeriesGraphType>>>>("series").Description("Early, chronic, acute, subacute.").Resolve(c => c.Source.Series);
    }
}

public sealed class TrendSeriesGraphType : ObjectGraphType<TrendSeries>
{
    public TrendSeriesGraphType()
    {
        Name = "TrendSeries";
        Description = "One cohort's outcomes, quarter by quarter.";
        Field<NonNullGraphType<StudyCohortGraphType>>("cohort").Description("Which cohort.").Resolve(c => c.Source.Cohort);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<TrendPointGraphType>>>>("points").Description("One point per quarter.").Resolve(c => c.Source.Points);
    }
}

public sealed class TrendPointGraphType : ObjectGraphType<TrendPoint>
{
    public TrendPointGraphType()
    {
        Name = "TrendPoint";
        Description = "A cohort's outcomes among episodes that started in one quarter.";
        Field(x => x.Quarter).Description("Quarter of episode start, yyyyQn.");
        Field<IntGraphType>("patients").Description("Episodes; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.Patients);
        Field(x => x.Suppressed).Description("True when fewer than k patients, or the whole trend is withheld.");
        Field<NonNullGraphType<MeanEstimateGraphType>>("durableNprsChange").Description("Mean baseline − latest NPRS.").Resolve(c => c.Source.DurableNprsChange);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("nprsResponders").Description("Share improving by the NPRS MCID.").Resolve(c => c.Source.NprsResponders);
    }
}

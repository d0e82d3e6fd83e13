using GraphQL;
using GraphQL.Types;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Gateway.FollowingTrends;

public sealed record TrendPoint(string Quarter, long Patients, MeanEstimate DurableNprsChange, ProportionEstimate NprsResponders, bool Suppressed);

public sealed record TrendSeries(StudyCohort Cohort, IReadOnlyList<TrendPoint> Points);

public sealed record OutcomeTrends(long Sequence, bool Live, int K, bool Suppressed, string? SuppressionReason, StudyQuery Query,
    IReadOnlyList<string> Quarters, IReadOnlyList<string> WithheldQuarters, IReadOnlyList<TrendSeries> Series);

/// <summary>Mean durable NPRS change and responder rate per quarter of episode start, per cohort,
/// summed from cells. Splitting by quarter restricts one more dimension, so the cube rule applies
/// with the quarter in it. A thin quarter (some quarter × restricted-values × duration-band atom
/// holding 1 to k − 1 patients, network-wide) is not shown; the withheld quarters are treated as
/// one merged bucket, grown by the smallest remaining quarter until the bucket itself passes the
/// cube rule. Shown quarters and the bucket are then all safe blocks, so subtracting shown points
/// from any published total only ever recovers a safe block. (The latest quarter is usually thin:
/// few of its episodes are discharged yet.)</summary>
public static class Trends
{
    public const string UnsafeTrend =
        "Every quarter, crossed with the restricted dimensions and pain-duration bands, holds fewer than k patients somewhere; showing any would let a thin one be recovered by subtraction.";

    public static OutcomeTrends Compute(IReadOnlyCollection<OutcomeCell> network, StudyQuery query, long sequence, bool live, int k)
    {
        var withheld = WithheldQuarters(network, query, k);
        var cells = network.Where(c => query.Matches(c.Key)).ToList();
        var quarters = cells.Select(c => Quarter(c.Key)).Distinct().Order(StringComparer.Ordinal).ToList();
        var allWithheld = quarters.Count > 0 && quarters.All(withheld.Contains);
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
            var shown = !withheld.Contains(quarter);
            var limit = shown ? k : int.MaxValue;
            return new TrendPoint(quarter, sums.Patients,
                Statistics.Mean(change.N, change.Sum, change.SumOfSquares, limit),
                Statistics.Proportion(pairs.Where(p => query.NprsResponder(p.Baseline, p.Latest)).Sum(p => p.Count), change.N, limit),
                !shown || sums.Patients < k);
        }).ToList())).ToList();

        return new OutcomeTrends(sequence, live, k, allWithheld, allWithheld ? UnsafeTrend : null, query, quarters,
            quarters.Where(withheld.Contains).ToList(), series);
    }

    /// <summary>The quarters to withhold: the thin ones, plus as many of the smallest others as it
    /// takes for all of them together to pass the cube rule as one bucket.</summary>
    public static IReadOnlySet<string> WithheldQuarters(IReadOnlyCollection<OutcomeCell> network, StudyQuery query, int k)
    {
        var dimensions = query.RestrictedDimensions().ToList();
        var withheld = network
            .GroupBy(c => (Quarter(c.Key), Atom: string.Join('|', dimensions.Select(d => d(c.Key)).Append(Suppression.DurationAtom(c.Key.DurationBand)))))
            .Where(g => g.Sum(c => c.Episodes) is var n && n > 0 && n < k)
            .Select(g => g.Key.Item1)
            .ToHashSet();
        var bySize = network.GroupBy(c => Quarter(c.Key)).Select(g => (Quarter: g.Key, Episodes: g.Sum(c => c.Episodes)))
            .OrderBy(q => q.Episodes).ThenBy(q => q.Quarter, StringComparer.Ordinal).Select(q => q.Quarter).ToList();
        while (withheld.Count > 0 && !Suppression.IsSafe(network, dimensions.Append(key => withheld.Contains(Quarter(key)) ? "withheld" : Quarter(key)), k))
        {
            var next = bySize.FirstOrDefault(q => !withheld.Contains(q));
            if (next is null) break;
            withheld.Add(next);
        }
        return withheld;
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
        Field(x => x.Suppressed).Description("True when every quarter is withheld.");
        Field(x => x.SuppressionReason, nullable: true).Description("Why the whole trend is withheld, when it is.");
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<StringGraphType>>>>("withheldQuarters")
            .Description("Quarters not shown: each is thin somewhere in the cube of restricted values × pain-duration bands, or withheld with the thin ones so that together they pass the small-cell rule.")
            .Resolve(c => c.Source.WithheldQuarters);
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
        Field(x => x.Suppressed).Description("True when fewer than k patients, or the quarter is withheld (see withheldQuarters).");
        Field<NonNullGraphType<MeanEstimateGraphType>>("durableNprsChange").Description("Mean baseline − latest NPRS.").Resolve(c => c.Source.DurableNprsChange);
        Field<NonNullGraphType<ProportionEstimateGraphType>>("nprsResponders").Description("Share improving by the NPRS MCID.").Resolve(c => c.Source.NprsResponders);
    }
}

using GraphQL;
using GraphQL.Types;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;
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

    public static OutcomeTrends Compute(CubeSnapshot snapshot, Disclosure disclosure, StudyQuery query, int k, bool latest)
    {
        query = query.Effective;
        // First as any study of these dimensions: withheld whole unless the release publishes them.
        if (!disclosure.Allows(query.Restricted, Measure.Episodes) || !disclosure.Allows(query.Restricted, Measure.Latest))
            return new OutcomeTrends(snapshot.Sequence, latest, k, true,
                disclosure.Reason(query.Restricted, Measure.Episodes) ?? disclosure.Reason(query.Restricted, Measure.Latest), query, [], [], []);
        // Points split by quarter: the quarter is restricted too. In space, thin quarters are withheld
        // together (below); in time, the release decided whether these atoms moved in steps of k.
        var byQuarter = query.Restricted | Dimension.Quarter;
        if (!disclosure.AllowsInTime(byQuarter, Measure.Episodes) || !disclosure.AllowsInTime(byQuarter, Measure.Latest))
            return new OutcomeTrends(snapshot.Sequence, latest, k, true,
                disclosure.Published ? Disclosure.InTime : Disclosure.NotYet, query, [], [], []);
        var withheld = WithheldQuarters(snapshot, query, k);
        var filter = new CellFilter(query, snapshot);
        var rule = query.NprsRule;
        var highest = Enumerable.Range(0, 11).Select(rule.HighestImproved).ToArray();
        var quarterly = new SortedDictionary<int, CohortSums[]>();
        foreach (var cell in snapshot.TableFor(filter.Restricted | Dimension.Quarter | Dimension.Duration).Cells)
        {
            if (cell.Stats.Episodes == 0 || !filter.Matches(cell.Key)) continue;
            var quarter = PackedKey.Quarter(cell.Key);
            if (!quarterly.TryGetValue(quarter, out var bands))
                quarterly[quarter] = bands = [.. Enumerable.Range(0, PainDurations.Count).Select(_ => new CohortSums())];
            bands[(int)PackedKey.Duration(cell.Key)].Add(cell.Stats, highest);
        }
        var quarters = quarterly.Keys.Select(Quarters.FromIndex).ToList();
        var allWithheld = quarters.Count > 0 && quarters.All(withheld.Contains);
        var cohorts = new (StudyCohort Cohort, Func<PainDuration, bool> Holds)[]
        {
            (StudyCohort.Early, query.IsEarly),
            (StudyCohort.Chronic, band => !query.IsEarly(band)),
            (StudyCohort.Acute, band => band == PainDuration.Under6),
            (StudyCohort.Subacute, band => band == PainDuration.From6To11),
        };

        var series = cohorts.Select(cohort => new TrendSeries(cohort.Cohort, quarterly.Select(q =>
        {
            var quarter = Quarters.FromIndex(q.Key);
            var sums = CohortSums.Of(q.Value.Where((_, band) => cohort.Holds((PainDuration)band)));
            var change = CohortSums.ChangeMoments(sums.Latest);
            var shown = !withheld.Contains(quarter);
            var limit = shown ? k : int.MaxValue;
            return new TrendPoint(quarter, sums.Episodes,
                Statistics.Mean(change.N, change.Sum, change.SumOfSquares, limit),
                Statistics.Proportion(CohortSums.Pairs(sums.Latest).Where(p => query.NprsResponder(p.Baseline, p.Score)).Sum(p => p.Count), change.N, limit),
                !shown || sums.Episodes < k);
        }).ToList())).ToList();

        // A trend withheld whole says nothing of which quarters hold episodes.
        return allWithheld
            ? new OutcomeTrends(snapshot.Sequence, latest, k, true, UnsafeTrend, query, [], [], [])
            : new OutcomeTrends(snapshot.Sequence, latest, k, false, null, query, quarters, quarters.Where(withheld.Contains).ToList(), series);
    }

    /// <summary>The quarters to withhold: the thin ones, plus as many of the smallest others as it
    /// takes for all of them together to pass the cube rule as one bucket.</summary>
    public static IReadOnlySet<string> WithheldQuarters(CubeSnapshot snapshot, StudyQuery query, int k)
    {
        var atoms = query.Restricted | Dimension.Duration;
        var mask = PackedKey.Mask(atoms);
        // Episodes per (quarter, atom) across the network, and per quarter.
        var perAtom = new Dictionary<(int Quarter, long Atom), long>();
        var perQuarter = new Dictionary<int, long>();
        foreach (var cell in snapshot.TableFor(atoms | Dimension.Quarter).Cells)
        {
            if (cell.Stats.Episodes == 0) continue;
            var quarter = PackedKey.Quarter(cell.Key);
            var at = (quarter, cell.Key & mask);
            perAtom[at] = perAtom.GetValueOrDefault(at) + cell.Stats.Episodes;
            perQuarter[quarter] = perQuarter.GetValueOrDefault(quarter) + cell.Stats.Episodes;
        }
        var withheld = perAtom.Where(a => a.Value < k).Select(a => a.Key.Quarter).ToHashSet();
        var bySize = perQuarter.OrderBy(q => q.Value).ThenBy(q => q.Key).Select(q => q.Key).ToList();
        while (withheld.Count > 0 && !BucketSafe())
        {
            var next = bySize.FirstOrDefault(q => !withheld.Contains(q), -1);
            if (next < 0) break;
            withheld.Add(next);
        }
        return withheld.Select(Quarters.FromIndex).ToHashSet();

        // The withheld quarters as one bucket, crossed with the atoms, must pass the rule too.
        bool BucketSafe() => perAtom.Where(a => withheld.Contains(a.Key.Quarter)).GroupBy(a => a.Key.Atom)
            .All(g => g.Sum(a => a.Value) >= k);
    }

    public static void AddTo(ObjectGraphType query) =>
        query.Field<NonNullGraphType<OutcomeTrendsGraphType>>("outcomeTrends")
            .Description("Mean durable NPRS change and NPRS responder rate per quarter of episode start, per cohort, with CIs.")
            .Argument<StudyFilterInputGraphType>("filter", "Which episodes, the chronic threshold and the MCIDs.")
            .Argument<LongGraphType>("asOf", "Recompute as of this event sequence.")
            .ResolveAsync(async context =>
            {
                var filter = StudyFilters.Validated(context.GetArgument<StudyQuery?>("filter"));
                var snapshot = await context.SnapshotAsync(context.GetArgument<long?>("asOf"));
                var trends = Compute(snapshot.Cube, snapshot.Disclosure, filter, snapshot.K, snapshot.Live);
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

using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

public sealed record CohortOutcomes(
    string Cohort,
    long? Patients,
    bool Suppressed,
    MeanEstimate ImmediateRelief,
    MeanEstimate DurableNprsChange,
    MeanEstimate NdiChange,
    MeanEstimate OdiChange,
    ProportionEstimate NprsResponders,
    ProportionEstimate NdiResponders,
    ProportionEstimate OdiResponders,
    ProportionEstimate RelapseAtFollowUp,
    SurvivalEstimate SessionsToMcid);

/// <summary>Early versus chronic. Differences are early minus chronic; positive change means less pain.</summary>
public sealed record CohortComparison(
    long Sequence,
    int K,
    bool Suppressed,
    string? SuppressionReason,
    CohortOutcomes Early,
    CohortOutcomes Chronic,
    CohortOutcomes Acute,
    CohortOutcomes Subacute,
    DifferenceEstimate DurableChangeDifference,
    DifferenceEstimate DurableChangeHedgesG,
    DifferenceEstimate NdiChangeDifference,
    DifferenceEstimate OdiChangeDifference,
    DifferenceEstimate ResponderRiskDifference,
    NntEstimate NumberNeededToTreat,
    AdjustedEstimate AdjustedDurableChangeDifference,
    AdjustedEstimate AdjustedResponderDifference,
    IReadOnlyList<ClinicBenchmark> Benchmarks);

/// <summary>Every study statistic from summed cells: O(cells), whatever the number of events.</summary>
public static class StudyCalculator
{
    public const string UnsafeQuery =
        "A combination of the restricted dimensions holds fewer than k patients; answering would let two studies be subtracted to reveal them.";

    public static CohortComparison Compare(IReadOnlyCollection<OutcomeCell> network, StudyQuery query, long sequence, int k)
    {
        var safe = Suppression.IsSafe(network, query.RestrictedDimensions(), k);
        var cells = network.Where(c => query.Matches(c.Key)).ToList();
        var early = cells.Where(c => query.IsEarly(c.Key)).ToList();
        var chronic = cells.Where(c => !query.IsEarly(c.Key)).ToList();
        var acute = cells.Where(c => c.Key.DurationBand < 6).ToList();
        var subacute = early.Where(c => c.Key.DurationBand >= 6).ToList();

        var e = Outcomes("early", early, query, k, !safe);
        var c = Outcomes("chronic", chronic, query, k, !safe);
        var responderRd = Statistics.RiskDifference(e.NprsResponders, c.NprsResponders);

        var changeModel = AdjustedModel.Fit(cells, query.IsEarly, (b, l) => b - l);
        var responderModel = AdjustedModel.Fit(cells, query.IsEarly, (b, l) => query.NprsResponder(b, l) ? 1 : 0);
        var benchmarksSafe = safe && Suppression.IsSafe(network, query.RestrictedDimensions().Append(key => key.Clinic), k, splitsByDuration: false);
        var groupsShown = !e.Suppressed && !c.Suppressed;

        return new CohortComparison(
            sequence, k, !safe, safe ? null : UnsafeQuery,
            e, c,
            Outcomes("acute", acute, query, k, !safe),
            Outcomes("subacute", subacute, query, k, !safe),
            Statistics.Welch(e.DurableNprsChange, c.DurableNprsChange),
            Statistics.HedgesG(e.DurableNprsChange, c.DurableNprsChange),
            Statistics.Welch(e.NdiChange, c.NdiChange),
            Statistics.Welch(e.OdiChange, c.OdiChange),
            responderRd,
            Statistics.Nnt(responderRd),
            changeModel.EarlyEffect(k, !groupsShown),
            responderModel.EarlyEffect(k, !groupsShown),
            changeModel.Benchmarks(cells, k, !benchmarksSafe));
    }

    public static CohortOutcomes Outcomes(string cohort, IReadOnlyCollection<OutcomeCell> cells, StudyQuery query, int k, bool suppressAll)
    {
        var sums = CellSums.Of(cells);
        var limit = suppressAll ? int.MaxValue : k;
        var pairs = sums.Pairs().ToList();
        var change = CellSums.MomentsOf(pairs.Select(p => ((double)(p.Baseline - p.Latest), p.Count)));
        var ndi = CellSums.MomentsOf(sums.NdiChange.Select(x => ((double)x.Key, x.Value)));

        var suppressed = suppressAll || sums.Patients < k;
        return new CohortOutcomes(
            cohort,
            suppressed ? null : sums.Patients,
            suppressed,
            Statistics.Mean(sums.Relief.N, sums.Relief.Sum, sums.Relief.SumOfSquares, limit),
            Statistics.Mean(change.N, change.Sum, change.SumOfSquares, limit),
            Statistics.Mean(ndi.N, ndi.Sum, ndi.SumOfSquares, limit),
            Statistics.Mean(sums.OdiChange.N, sums.OdiChange.Sum, sums.OdiChange.SumOfSquares, limit),
            Statistics.Proportion(pairs.Where(p => query.NprsResponder(p.Baseline, p.Latest)).Sum(p => p.Count), change.N, limit),
            Statistics.Proportion(sums.NdiChange.Where(x => x.Key >= query.NdiMcid).Sum(x => x.Value), ndi.N, limit),
            Statistics.Proportion(sums.OdiChangeFloor.Where(x => x.Key >= query.OdiMcid).Sum(x => x.Value), sums.OdiChange.N, limit),
            Statistics.Proportion(sums.Relapsed, sums.FollowedUp, limit),
            Survival.KaplanMeier(sums.McidAfterSessions, sums.CensoredAfterSessions, limit));
    }
}

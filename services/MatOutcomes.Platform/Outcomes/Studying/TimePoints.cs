using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>When follow-ups were taken, in whole weeks after discharge: nearest-rank quartiles (the
/// smallest week count with at least a quarter, half, three quarters of the follow-ups at or below
/// it; 104 stands for 104 or more). Quartiles rather than the range: the extremes are single
/// episodes' values.</summary>
public sealed record WeeksWindow(long? N, int? LowerQuartile, int? Median, int? UpperQuartile, bool Suppressed);

/// <summary>NPRS change and responders at one fixed time point (IMMPACT), over the episodes that
/// have a score at it: each time point has its own n.</summary>
public sealed record TimePointOutcomes(MeanEstimate NprsChange, ProportionEstimate NprsResponders, WeeksWindow? WeeksAfterDischarge);

/// <summary>Early minus chronic at one time point: Welch for change, Newcombe for responders.</summary>
public sealed record TimePointDifferences(DifferenceEstimate NprsChange, DifferenceEstimate NprsResponders);

/// <summary>Outcomes at fixed time points, from the cells' pair histograms: at discharge, the last
/// in-care NPRS (a pre-session score or an NPRS outcome measure, never a follow-up); at follow-up,
/// the last follow-up NPRS after discharge, with its window. Durable change mixes the two horizons
/// (follow-up when there is one, else the last in-care score); these keep them apart.</summary>
public static class TimePoints
{
    public static TimePointOutcomes AtDischarge(CohortSums sums, StudyQuery query, int limit) => Of(sums.Discharge, query, limit, null);

    public static TimePointOutcomes AtFollowUp(CohortSums sums, StudyQuery query, int limit) =>
        Of(sums.FollowUp, query, limit, Window(sums.FollowUpWeeks, limit));

    public static TimePointDifferences Difference(TimePointOutcomes early, TimePointOutcomes chronic) =>
        new(Statistics.Welch(early.NprsChange, chronic.NprsChange), Statistics.RiskDifference(early.NprsResponders, chronic.NprsResponders));

    public static TimePointOutcomes Withheld(bool followUp) => new(
        new MeanEstimate(null, null, null, null, null, true), new ProportionEstimate(null, null, null, null, null, true),
        followUp ? new WeeksWindow(null, null, null, null, true) : null);

    public static readonly TimePointDifferences WithheldDifferences = new(
        new DifferenceEstimate(null, null, null, null, true), new DifferenceEstimate(null, null, null, null, true));

    private static TimePointOutcomes Of(long[] pairs, StudyQuery query, int limit, WeeksWindow? window)
    {
        var change = CohortSums.ChangeMoments(pairs);
        var responders = CohortSums.Pairs(pairs).Where(p => query.NprsResponder(p.Baseline, p.Score)).Sum(p => p.Count);
        return new(Statistics.Mean(change.N, change.Sum, change.SumOfSquares, limit), Statistics.Proportion(responders, change.N, limit), window);
    }

    public static WeeksWindow Window(long[] weeks, int limit)
    {
        var n = weeks.Sum();
        if (n < limit || n == 0) return new(null, null, null, null, true);
        return new(n, Quantile(0.25), Quantile(0.5), Quantile(0.75), false);

        int Quantile(double q)
        {
            long below = 0;
            for (var w = 0; w < weeks.Length; w++)
                if ((below += weeks[w]) >= q * n) return w;
            return weeks.Length - 1;
        }
    }
}

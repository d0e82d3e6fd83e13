using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>Small-cell suppression that also resists differencing. A figure over fewer than k
/// patients is withheld. And a query is answered only if every atom of the cube spanned by the
/// dimensions it restricts (crossed with the pain-duration bands between allowed thresholds) holds
/// either no patient or at least k, across the whole network. Any two answerable queries then
/// differ by whole atoms, so subtracting published totals never isolates fewer than k patients.</summary>
public static class Suppression
{
    /// <summary>The duration atoms: bands between consecutive allowed thresholds.</summary>
    public static int DurationAtom(int band) => DurationBands.Thresholds.Count(t => t <= band);

    /// <param name="splitsByDuration">Whether the figures split patients by pain duration (cohort
    /// comparisons do; per-clinic benchmarks over all durations do not).</param>
    public static bool IsSafe(IEnumerable<OutcomeCell> network, IEnumerable<Func<CellKey, object>> dimensions, int k,
        bool splitsByDuration = true)
    {
        var dims = dimensions.ToList();
        return network
            .GroupBy(c => string.Join('|', dims.Select(d => d(c.Key)).Append(splitsByDuration ? DurationAtom(c.Key.DurationBand) : 0)))
            .Select(g => g.Sum(c => c.Episodes))
            .All(n => n == 0 || n >= k);
    }
}

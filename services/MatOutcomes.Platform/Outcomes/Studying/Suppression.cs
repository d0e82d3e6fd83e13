using MatOutcomes.Platform.Outcomes.Cube;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>Small-cell suppression that also resists differencing. A figure over fewer than k
/// patients is withheld. And a query is answered only if every atom of the cube spanned by the
/// dimensions it restricts (crossed with the pain-duration bands) holds either no patient or at
/// least k, across the whole network. Any two answerable queries then differ by whole atoms, so
/// subtracting published totals never isolates fewer than k patients. Decided from counts alone,
/// before any statistic is computed.</summary>
public static class Suppression
{
    /// <param name="splitsByDuration">Whether the figures split patients by pain duration (cohort
    /// comparisons do; per-clinic benchmarks over all durations do not).</param>
    public static bool IsSafe(CubeSnapshot snapshot, Dimension restricted, int k, bool splitsByDuration = true)
    {
        var atoms = restricted | (splitsByDuration ? Dimension.Duration : Dimension.None);
        var mask = PackedKey.Mask(atoms);
        var counts = new Dictionary<long, long>();
        foreach (var cell in snapshot.TableFor(atoms).Cells)
        {
            if (cell.Stats.Episodes == 0) continue;
            var atom = cell.Key & mask;
            counts[atom] = counts.GetValueOrDefault(atom) + cell.Stats.Episodes;
        }
        return counts.Values.All(n => n >= k);
    }
}

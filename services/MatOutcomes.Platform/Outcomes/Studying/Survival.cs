namespace MatOutcomes.Platform.Outcomes.Studying;

public sealed record SurvivalPoint(int Sessions, long AtRisk, long Events, long Censored, double Survival, double? Lower, double? Upper);

/// <summary>Kaplan–Meier estimate of "not yet improved by the MCID" against sessions received.
/// The curve stops where fewer than k patients remain at risk.</summary>
public sealed record SurvivalEstimate(long? N, long? Events, IReadOnlyList<SurvivalPoint> Curve,
    double? MedianSessions, double? MedianLower, double? MedianUpper, bool Suppressed);

public static class Survival
{
    /// <summary>Kaplan–Meier with Greenwood variance and log(−log) confidence bands; median and its
    /// CI by Brookmeyer–Crowley (first times the band's lower / upper edge reaches 0.5).</summary>
    public static SurvivalEstimate KaplanMeier(IReadOnlyDictionary<int, long> events, IReadOnlyDictionary<int, long> censored, int k)
    {
        var n = events.Values.Sum() + censored.Values.Sum();
        if (n < k) return new(null, null, [], null, null, null, true);

        var times = events.Keys.Concat(censored.Keys).Distinct().Order().ToList();
        var atRisk = n;
        var survival = 1.0;
        var greenwood = 0.0;
        var curve = new List<SurvivalPoint>();
        double? median = null, medianLower = null, medianUpper = null;
        foreach (var t in times)
        {
            var d = events.GetValueOrDefault(t);
            var c = censored.GetValueOrDefault(t);
            if (atRisk < k) break;
            if (d > 0)
            {
                survival *= 1 - (double)d / atRisk;
                if (atRisk > d) greenwood += (double)d / (atRisk * (atRisk - d));
            }
            var (lower, upper) = Band(survival, greenwood);
            curve.Add(new SurvivalPoint(t, atRisk, d, c, survival, lower, upper));
            if (median is null && survival <= 0.5) median = t;
            // The median's CI holds the times whose band contains 0.5: it opens when the lower
            // edge first reaches 0.5 and closes when the upper edge does.
            if (medianLower is null && lower is { } l && l <= 0.5) medianLower = t;
            if (medianUpper is null && upper is { } u && u <= 0.5) medianUpper = t;
            atRisk -= d + c;
        }
        return new(n, events.Values.Sum(), curve, median, medianLower, medianUpper, false);
    }

    private static (double?, double?) Band(double s, double greenwood)
    {
        if (s <= 0) return (0, 0);
        if (s >= 1) return (1, 1);
        // exp(−exp(log(−log s) ± z·se)) is s raised to exp(±z·se).
        var se = Math.Sqrt(greenwood) / Math.Abs(Math.Log(s));
        return (Math.Pow(s, Math.Exp(Statistics.Z * se)), Math.Pow(s, Math.Exp(-Statistics.Z * se)));
    }
}

namespace MatOutcomes.Platform.Outcomes.Studying;

public sealed record SurvivalPoint(int Sessions, long AtRisk, long Events, long Censored, double Survival, double? Lower, double? Upper);

/// <summary>Kaplan–Meier estimate of "not yet improved by the MCID" against sessions received.
/// The curve stops where fewer than k patients remain at risk. The median and its CI are
/// interpolated (see <see cref="Survival"/>); <see cref="MedianSessionsStep"/> is the step curve's.</summary>
public sealed record SurvivalEstimate(long? N, long? Events, IReadOnlyList<SurvivalPoint> Curve,
    double? MedianSessions, double? MedianLower, double? MedianUpper, bool Suppressed, int? MedianSessionsStep = null);

public static class Survival
{
    /// <summary>Kaplan–Meier with Greenwood variance and log(−log) confidence bands. The median and
    /// its Brookmeyer–Crowley CI are read off the curve and its band edges with linear
    /// interpolation between whole session counts (the life-table convention: an event recorded at
    /// t sessions happened somewhere in (t − 1, t]). On the step curve alone, a time grid of whole
    /// sessions gives intervals such as [3, 3] that say "certainly 3" when they only mean "the
    /// band crosses one half within the third session"; interpolation keeps that width.</summary>
    public static SurvivalEstimate KaplanMeier(IReadOnlyDictionary<int, long> events, IReadOnlyDictionary<int, long> censored, int k)
    {
        var n = events.Values.Sum() + censored.Values.Sum();
        if (n < k) return new(null, null, [], null, null, null, true);

        var times = events.Keys.Concat(censored.Keys).Distinct().Order().ToList();
        var atRisk = n;
        var survival = 1.0;
        var greenwood = 0.0;
        var curve = new List<SurvivalPoint>();
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
            atRisk -= d + c;
        }
        // The median's CI holds the times whose band contains one half: from where the lower edge
        // first reaches it to where the upper edge does (Brookmeyer–Crowley).
        return new(n, events.Values.Sum(), curve,
            HalfCrossing(curve, p => p.Survival), HalfCrossing(curve, p => p.Lower), HalfCrossing(curve, p => p.Upper), false,
            curve.FirstOrDefault(p => p.Survival <= 0.5)?.Sessions);
    }

    /// <summary>Where a step function of whole sessions, drawn linearly across each session
    /// (from its value at t − 1 to its value at t), first reaches one half; null if it does not
    /// while the curve is shown. A crossing at 0 sessions (improved before the first session) is 0.</summary>
    public static double? HalfCrossing(IReadOnlyList<SurvivalPoint> curve, Func<SurvivalPoint, double?> value)
    {
        // Points are at distinct whole sessions, so the value one session before a point is the
        // previous point's (1 before the first).
        var before = 1.0;
        foreach (var point in curve)
        {
            if (value(point) is not { } v) continue;
            if (v <= 0.5) return point.Sessions == 0 ? 0 : point.Sessions - 1 + (before - 0.5) / (before - v);
            before = v;
        }
        return null;
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

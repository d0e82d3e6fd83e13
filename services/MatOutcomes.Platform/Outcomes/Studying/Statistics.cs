using MathNet.Numerics.Distributions;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>A mean with its spread and 95% confidence interval; withheld when fewer than k
/// patients stand behind it, and then every number is null, the count included (a count under k
/// is itself a small cell).</summary>
public sealed record MeanEstimate(long? N, double? Mean, double? Sd, double? Lower, double? Upper, bool Suppressed);

public sealed record ProportionEstimate(long? N, long? Count, double? Proportion, double? Lower, double? Upper, bool Suppressed);

public sealed record DifferenceEstimate(double? Estimate, double? Lower, double? Upper, double? DegreesOfFreedom, bool Suppressed);

/// <summary>Number needed to treat. When the risk difference's CI spans zero the NNT's CI runs
/// through infinity (Altman 1998): from <c>Lower</c> (benefit) to ∞ to <c>Upper</c> (harm).</summary>
public sealed record NntEstimate(double? Estimate, double? Lower, double? Upper, bool CiIncludesInfinity, bool Suppressed);

/// <summary>Textbook formulas on sufficient statistics. Quantiles come from MathNet.Numerics.</summary>
public static class Statistics
{
    public const double Confidence = 0.95;
    public static readonly double Z = Normal.InvCDF(0, 1, 1 - (1 - Confidence) / 2);

    public static double T(double df) =>
        // The quantile is found iteratively; whole degrees of freedom recur (every benchmark of a
        // study shares the model's), so those are worked out once.
        df == Math.Floor(df) && df < 1e7
            ? Quantiles.GetOrAdd((long)df, d => StudentT.InvCDF(0, 1, d, 1 - (1 - Confidence) / 2))
            : StudentT.InvCDF(0, 1, df, 1 - (1 - Confidence) / 2);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<long, double> Quantiles = new();

    public static MeanEstimate Mean(long n, double sum, double sumOfSquares, int k)
    {
        if (n < k || n < 2) return new(null, null, null, null, null, true);
        var mean = sum / n;
        var variance = Math.Max(0, (sumOfSquares - n * mean * mean) / (n - 1));
        var sd = Math.Sqrt(variance);
        var half = T(n - 1) * sd / Math.Sqrt(n);
        return new(n, mean, sd, mean - half, mean + half, false);
    }

    /// <summary>Wilson score interval.</summary>
    public static (double Lower, double Upper) Wilson(long count, long n)
    {
        var p = (double)count / n;
        var z2 = Z * Z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = Z * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
        return (centre - half, centre + half);
    }

    public static ProportionEstimate Proportion(long count, long n, int k)
    {
        if (n < k || n == 0) return new(null, null, null, null, null, true);
        var (lower, upper) = Wilson(count, n);
        return new(n, count, (double)count / n, lower, upper, false);
    }

    /// <summary>Welch's difference of means (a − b) with the Welch–Satterthwaite degrees of freedom.</summary>
    public static DifferenceEstimate Welch(MeanEstimate a, MeanEstimate b)
    {
        if (a.Suppressed || b.Suppressed) return new(null, null, null, null, true);
        var (na, nb) = (a.N!.Value, b.N!.Value);
        var va = a.Sd!.Value * a.Sd.Value / na;
        var vb = b.Sd!.Value * b.Sd.Value / nb;
        var se = Math.Sqrt(va + vb);
        var diff = a.Mean!.Value - b.Mean!.Value;
        if (se == 0) return new(diff, diff, diff, null, false);
        var df = Math.Pow(va + vb, 2) / (va * va / (na - 1) + vb * vb / (nb - 1));
        var half = T(df) * se;
        return new(diff, diff - half, diff + half, df, false);
    }

    /// <summary>Hedges' g (bias-corrected standardized mean difference, a − b) with the usual
    /// large-sample standard error.</summary>
    public static DifferenceEstimate HedgesG(MeanEstimate a, MeanEstimate b)
    {
        if (a.Suppressed || b.Suppressed) return new(null, null, null, null, true);
        double n1 = a.N!.Value, n2 = b.N!.Value;
        var pooled = Math.Sqrt(((n1 - 1) * a.Sd!.Value * a.Sd.Value + (n2 - 1) * b.Sd!.Value * b.Sd.Value) / (n1 + n2 - 2));
        if (pooled == 0) return new(null, null, null, null, false);
        var d = (a.Mean!.Value - b.Mean!.Value) / pooled;
        var g = (1 - 3 / (4 * (n1 + n2) - 9)) * d;
        var se = Math.Sqrt((n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)));
        return new(g, g - Z * se, g + Z * se, null, false);
    }

    /// <summary>Risk difference (a − b) with Newcombe's hybrid score interval (method 10), built
    /// from the two Wilson intervals.</summary>
    public static DifferenceEstimate RiskDifference(ProportionEstimate a, ProportionEstimate b)
    {
        if (a.Suppressed || b.Suppressed) return new(null, null, null, null, true);
        double p1 = a.Proportion!.Value, p2 = b.Proportion!.Value;
        var rd = p1 - p2;
        var lower = rd - Math.Sqrt(Math.Pow(p1 - a.Lower!.Value, 2) + Math.Pow(b.Upper!.Value - p2, 2));
        var upper = rd + Math.Sqrt(Math.Pow(a.Upper!.Value - p1, 2) + Math.Pow(p2 - b.Lower!.Value, 2));
        return new(rd, lower, upper, null, false);
    }

    public static NntEstimate Nnt(DifferenceEstimate riskDifference)
    {
        if (riskDifference.Suppressed || riskDifference.Estimate is not { } rd || rd == 0)
            return new(null, null, null, true, riskDifference.Suppressed);
        var (l, u) = (riskDifference.Lower!.Value, riskDifference.Upper!.Value);
        var spansZero = l <= 0 && u >= 0;
        // Both bounds are reciprocals; across zero they meet at infinity instead of enclosing it.
        return spansZero
            ? new(1 / rd, 1 / u, 1 / l, true, false)
            : new(1 / rd, Math.Min(1 / l, 1 / u), Math.Max(1 / l, 1 / u), false, false);
    }
}

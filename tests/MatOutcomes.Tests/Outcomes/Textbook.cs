using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Statistics;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>The statistics as a textbook writes them, on lists of individual values.</summary>
public static class Textbook
{
    public static readonly double Z = Normal.InvCDF(0, 1, 0.975);

    public static (double Mean, double Sd, double Lower, double Upper) MeanCi(IReadOnlyList<double> x)
    {
        var mean = x.Mean();
        var sd = x.StandardDeviation();
        var half = StudentT.InvCDF(0, 1, x.Count - 1, 0.975) * sd / Math.Sqrt(x.Count);
        return (mean, sd, mean - half, mean + half);
    }

    public static (double Lower, double Upper) Wilson(int successes, int n)
    {
        var p = (double)successes / n;
        var denominator = 1 + Z * Z / n;
        var centre = p + Z * Z / (2.0 * n);
        var spread = Z * Math.Sqrt(p * (1 - p) / n + Z * Z / (4.0 * n * n));
        return ((centre - spread) / denominator, (centre + spread) / denominator);
    }

    public static (double Difference, double Lower, double Upper) Welch(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double va = a.Variance(), vb = b.Variance();
        var se2 = va / a.Count + vb / b.Count;
        var df = se2 * se2 / (Math.Pow(va / a.Count, 2) / (a.Count - 1) + Math.Pow(vb / b.Count, 2) / (b.Count - 1));
        var half = StudentT.InvCDF(0, 1, df, 0.975) * Math.Sqrt(se2);
        var d = a.Mean() - b.Mean();
        return (d, d - half, d + half);
    }

    public static (double G, double Lower, double Upper) HedgesG(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double n1 = a.Count, n2 = b.Count;
        var sp = Math.Sqrt(((n1 - 1) * a.Variance() + (n2 - 1) * b.Variance()) / (n1 + n2 - 2));
        var g = (a.Mean() - b.Mean()) / sp * HedgesJ((int)(n1 + n2 - 2));
        var se = Math.Sqrt((n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)));
        return (g, g - Z * se, g + Z * se);
    }

    /// <summary>Hedges' exact J(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)) by the recurrence of the Γ ratio
    /// r(m) = Γ(m/2)/Γ((m−1)/2): r(m + 2) = r(m)·m/(m − 1), from r(2) = 1/√π and r(3) = √π/2.</summary>
    public static double HedgesJ(int m)
    {
        var (r, at) = m % 2 == 0 ? (1 / Math.Sqrt(Math.PI), 2) : (Math.Sqrt(Math.PI) / 2, 3);
        for (; at < m; at += 2) r *= (double)at / (at - 1);
        return r / Math.Sqrt(m / 2.0);
    }

    /// <summary>Newcombe (1998) method 10.</summary>
    public static (double Rd, double Lower, double Upper) Newcombe(int x1, int n1, int x2, int n2)
    {
        double p1 = (double)x1 / n1, p2 = (double)x2 / n2;
        var (l1, u1) = Wilson(x1, n1);
        var (l2, u2) = Wilson(x2, n2);
        var rd = p1 - p2;
        return (rd, rd - Math.Sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)), rd + Math.Sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)));
    }

    /// <summary>Kaplan–Meier by walking the individuals in time order, with Greenwood's variance and
    /// the log(−log) band.</summary>
    public static List<(int Time, double Survival, int AtRisk, double Lower, double Upper)> KaplanMeier(IReadOnlyList<(int Time, bool Event)> people)
    {
        var curve = new List<(int, double, int, double, double)>();
        var s = 1.0;
        var greenwood = 0.0;
        foreach (var time in people.Select(p => p.Time).Distinct().Order())
        {
            var atRisk = people.Count(p => p.Time >= time);
            var events = people.Count(p => p.Time == time && p.Event);
            s *= 1 - (double)events / atRisk;
            if (events < atRisk) greenwood += (double)events / ((double)atRisk * (atRisk - events));
            if (s <= 0) { curve.Add((time, s, atRisk, 0, 0)); continue; }
            if (s >= 1) { curve.Add((time, s, atRisk, 1, 1)); continue; }
            var logLog = Math.Log(-Math.Log(s));
            var se = Math.Sqrt(greenwood) / Math.Abs(Math.Log(s));
            curve.Add((time, s, atRisk, Math.Exp(-Math.Exp(logLog + Z * se)), Math.Exp(-Math.Exp(logLog - Z * se))));
        }
        return curve;
    }

    /// <summary>The first session count x at which a curve of whole sessions, joined linearly from
    /// each whole session to the next, is one half; 0 when it is already at 0 sessions.</summary>
    public static double? Interpolated(IReadOnlyList<(int Time, double Value)> curve)
    {
        var last = curve.Count == 0 ? 0 : curve[^1].Time;
        double ValueAt(int t) => curve.Where(p => p.Time <= t).Select(p => p.Value).DefaultIfEmpty(1.0).Last();
        for (var t = 0; t <= last; t++)
        {
            if (ValueAt(t) > 0.5) continue;
            if (t == 0) return 0;
            var (from, to) = (ValueAt(t - 1), ValueAt(t));
            return t - 1 + (from - 0.5) / (from - to);
        }
        return null;
    }

    /// <summary>OLS by QR on the individual rows: coefficients, their standard errors, residual df.</summary>
    public static (Vector<double> Beta, Vector<double> Se, int Df) Ols(Matrix<double> x, Vector<double> y)
    {
        var qr = x.QR();
        var beta = qr.Solve(y);
        var residuals = y - x * beta;
        var df = x.RowCount - x.ColumnCount;
        var sigma2 = residuals.DotProduct(residuals) / df;
        var r = qr.R.SubMatrix(0, x.ColumnCount, 0, x.ColumnCount);
        var rInverse = r.Inverse();
        var covariance = rInverse * rInverse.Transpose() * sigma2;
        return (beta, covariance.Diagonal().PointwiseSqrt(), df);
    }

    /// <summary>CR2 (Bell–McCaffrey) cluster-robust covariance on the individual rows, as the papers
    /// write it: residuals of the QR fit, each cluster's n_g×n_g leverage block H_gg = X_g (X'X)⁻¹ X_g',
    /// its adjustment (I − H_gg)^(−1/2) by eigen-decomposition (eigenvalues of I − H_gg under 1e-10
    /// dropped, a pseudo-inverse), then A (Σ X_g' W_g e_g e_g' W_g X_g) A.</summary>
    public static Matrix<double> Cr2(Matrix<double> x, Vector<double> y, IReadOnlyList<string> clusters)
    {
        var qr = x.QR();
        var residuals = y - x * qr.Solve(y);
        var rInverse = qr.R.SubMatrix(0, x.ColumnCount, 0, x.ColumnCount).Inverse();
        var a = rInverse * rInverse.Transpose();
        var meat = Matrix<double>.Build.Dense(x.ColumnCount, x.ColumnCount);
        foreach (var cluster in clusters.Distinct())
        {
            var rows = clusters.Select((c, i) => (c, i)).Where(p => p.c == cluster).Select(p => p.i).ToArray();
            var xg = Matrix<double>.Build.DenseOfRowVectors(rows.Select(x.Row));
            var eg = Vector<double>.Build.DenseOfEnumerable(rows.Select(i => residuals[i]));
            var complement = Matrix<double>.Build.DenseIdentity(rows.Length) - xg * a * xg.Transpose();
            var evd = ((complement + complement.Transpose()) / 2).Evd(Symmetricity.Symmetric);
            var inverseRoot = evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(
                evd.EigenValues.Real().Map(v => v > 1e-10 ? 1 / Math.Sqrt(v) : 0)) * evd.EigenVectors.Transpose();
            var u = xg.Transpose() * (inverseRoot * eg);
            meat += u.OuterProduct(u);
        }
        return a * meat * a;
    }

    /// <summary>Logistic regression on individual rows by IRLS written as weighted least squares
    /// (working response z = η + (t − e)/(e(1 − e)), weights e(1 − e), each step solved by QR).</summary>
    public static Vector<double> Logistic(Matrix<double> x, IReadOnlyList<bool> treated)
    {
        var beta = Vector<double>.Build.Dense(x.ColumnCount);
        for (var iteration = 0; iteration < 200; iteration++)
        {
            var eta = x * beta;
            var e = eta.Map(v => 1 / (1 + Math.Exp(-v)));
            var root = e.PointwiseMultiply(1 - e).PointwiseSqrt();
            var z = Vector<double>.Build.Dense(x.RowCount, i => eta[i] + ((treated[i] ? 1 : 0) - e[i]) / (e[i] * (1 - e[i])));
            var weighted = Matrix<double>.Build.Dense(x.RowCount, x.ColumnCount, (i, j) => x[i, j] * root[i]);
            var next = weighted.QR().Solve(z.PointwiseMultiply(root));
            var change = (next - beta).AbsoluteMaximum();
            beta = next;
            if (change < 1e-12) return beta;
        }
        throw new InvalidOperationException("the logistic fit did not converge");
    }

    /// <summary>IPTW on individual rows: Hájek means with weights 1/e and 1/(1 − e), and the
    /// M-estimation sandwich of θ = (γ, μ1, μ0), its bread the numerical Jacobian (central
    /// differences) of the summed estimating functions; the clustered meat sums them per cluster
    /// (× G/(G − 1)). Returns the estimate, the two standard errors and the propensity scores.</summary>
    public static (double Estimate, double IndependentSe, double ClusterSe, Vector<double> Propensity) Iptw(
        Matrix<double> x, IReadOnlyList<bool> treated, IReadOnlyList<double> y, IReadOnlyList<string> clusters)
    {
        var gamma = Logistic(x, treated);
        var n = x.RowCount;
        var p = x.ColumnCount;
        Vector<double> Propensity(Vector<double> g) => (x * g).Map(v => 1 / (1 + Math.Exp(-v)));
        var e0 = Propensity(gamma);
        double Hajek(bool group) =>
            Enumerable.Range(0, n).Where(i => treated[i] == group).Sum(i => y[i] / (group ? e0[i] : 1 - e0[i])) /
            Enumerable.Range(0, n).Where(i => treated[i] == group).Sum(i => 1 / (group ? e0[i] : 1 - e0[i]));
        var theta = Vector<double>.Build.DenseOfEnumerable(gamma.Append(Hajek(true)).Append(Hajek(false)));

        // ψ_i(θ) for every row.
        Matrix<double> Psi(Vector<double> at)
        {
            var e = Propensity(at.SubVector(0, p));
            return Matrix<double>.Build.Dense(n, p + 2, (i, j) =>
            {
                var t = treated[i] ? 1.0 : 0.0;
                if (j < p) return x[i, j] * (t - e[i]);
                return j == p ? t * (y[i] - at[p]) / e[i] : (1 - t) * (y[i] - at[p + 1]) / (1 - e[i]);
            });
        }

        var jacobian = Matrix<double>.Build.Dense(p + 2, p + 2);
        for (var j = 0; j < p + 2; j++)
        {
            var h = 1e-6 * Math.Max(1, Math.Abs(theta[j]));
            var up = theta.Clone(); up[j] += h;
            var down = theta.Clone(); down[j] -= h;
            jacobian.SetColumn(j, (Psi(up).ColumnSums() - Psi(down).ColumnSums()) / (2 * h));
        }
        var psi = Psi(theta);
        var independent = psi.TransposeThisAndMultiply(psi);
        var clustered = Matrix<double>.Build.Dense(p + 2, p + 2);
        var names = clusters.Distinct().ToList();
        foreach (var cluster in names)
        {
            var u = Vector<double>.Build.Dense(p + 2);
            for (var i = 0; i < n; i++) if (clusters[i] == cluster) u += psi.Row(i);
            clustered += u.OuterProduct(u);
        }
        clustered *= names.Count / (names.Count - 1.0);

        var breadInverse = jacobian.Inverse();
        var contrast = Vector<double>.Build.Dense(p + 2);
        contrast[p] = 1;
        contrast[p + 1] = -1;
        double Se(Matrix<double> meat) => Math.Sqrt(contrast * (breadInverse * meat * breadInverse.Transpose()) * contrast);
        return (theta[p] - theta[p + 1], Se(independent), Se(clustered), e0);
    }
}

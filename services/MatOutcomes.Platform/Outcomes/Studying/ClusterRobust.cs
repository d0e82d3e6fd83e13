using MathNet.Numerics.LinearAlgebra;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>How a confidence interval was made: from the classical OLS standard error, or
/// cluster-robust by clinic.</summary>
public enum InferenceKind { Classical, ClusterRobust }

/// <summary>A standard error and 95% t interval of one estimate. <see cref="Clusters"/> is the
/// number of clinics for a cluster-robust interval (null for a classical one). Numbers are null
/// when withheld, or when the method does not apply (a cluster-robust interval needs two clinics).</summary>
public sealed record Inference(double? StandardError, double? Lower, double? Upper, double? DegreesOfFreedom, int? Clusters, bool Suppressed)
{
    public static readonly Inference Withheld = new(null, null, null, null, null, true);

    public static Inference Interval(double estimate, double se, double df, int? clusters)
    {
        var half = Statistics.T(df) * se;
        return new(se, estimate - half, estimate + half, df, clusters, false);
    }
}

/// <summary>CR2 (Bell–McCaffrey) cluster-robust covariance of a least-squares fit, clustered by
/// clinic, from each clinic's X_g'X_g and X_g'y_g alone (no episode rows):
/// V = A (Σ_g u_g u_g') A with A = (X'X)⁻¹ and u_g = X_g' (I − H_gg)^(−1/2) e_g. Because
/// X_g' f(X_g A X_g') = f(X_g'X_g A) X_g' for any function f of the leverage matrix, and
/// X_g'X_g A = A^(−1/2) B_g A^(1/2) with B_g = A^(1/2) X_g'X_g A^(1/2) symmetric, u_g is
/// A^(−1/2) f(B_g) A^(1/2) X_g'e_g, f(λ) = (1 − λ)^(−1/2): a p×p eigen-decomposition per clinic,
/// and X_g'e_g = X_g'y_g − X_g'X_g β. Exact, and O(clinics · p³). Intervals use t on G − 1
/// degrees of freedom (G clinics with episodes in the model), the usual small-G correction.</summary>
public static class ClusterRobust
{
    /// <summary>Eigenvalues of I − H_gg this close to 0 (a clinic fits some direction perfectly)
    /// are left out of the inverse square root (a pseudo-inverse, as clubSandwich does).</summary>
    private const double Tolerance = 1e-10;

    /// <summary>The covariance of the kept coefficients (null with fewer than two clusters) and the
    /// number of clusters with episodes in the model.</summary>
    public static (Matrix<double>? Covariance, int Clusters) Covariance(Matrix<double> inverse, Vector<double> beta, IReadOnlyList<int> columns,
        IEnumerable<(long[] XtX, long[] Xty, long N)> clusters, int width)
    {
        var p = columns.Count;
        var evd = inverse.Evd(Symmetricity.Symmetric);
        var rootA = evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(evd.EigenValues.Real().PointwiseSqrt()) * evd.EigenVectors.Transpose();
        var rootAInverse = evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(evd.EigenValues.Real().Map(v => 1 / Math.Sqrt(v))) * evd.EigenVectors.Transpose();

        var meat = Matrix<double>.Build.Dense(p, p);
        var g = 0;
        foreach (var (xtx, xty, n) in clusters)
        {
            if (n == 0) continue;
            g++;
            var m = Matrix<double>.Build.Dense(p, p, (i, j) => xtx[columns[i] * width + columns[j]]);
            var xtyG = Vector<double>.Build.Dense(p, i => xty[columns[i]]);
            var scores = xtyG - m * beta;
            var b = rootA * m * rootA;
            var bEvd = ((b + b.Transpose()) / 2).Evd(Symmetricity.Symmetric);
            var f = bEvd.EigenValues.Real().Map(l => 1 - l > Tolerance ? 1 / Math.Sqrt(1 - l) : 0);
            var u = rootAInverse * (bEvd.EigenVectors * (f.PointwiseMultiply(bEvd.EigenVectors.TransposeThisAndMultiply(rootA * scores))));
            meat += u.OuterProduct(u);
        }
        return (g < 2 ? null : inverse * meat * inverse, g);
    }
}

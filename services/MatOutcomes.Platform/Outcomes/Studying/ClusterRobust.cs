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

    /// <summary>The covariance of the kept coefficients of each outcome's fit (null with fewer than
    /// two clusters) and the number of clusters with episodes in the model. The outcomes share their
    /// design, so each clinic's leverage decomposition (B_g and its eigenvectors, the costly part) is
    /// made once for all of them. The p×p products are loops over flat arrays: MathNet's general
    /// product and its two-dimensional arrays cost more per call than the arithmetic at this size.</summary>
    public static (Matrix<double>?[] Covariances, int Clusters) Covariance(Matrix<double> inverse, IReadOnlyList<Vector<double>> betas,
        IReadOnlyList<int> columns, IEnumerable<(long[] XtX, IReadOnlyList<long[]> Xty, long N)> clusters, int width)
    {
        var p = columns.Count;
        var evd = inverse.Evd(Symmetricity.Symmetric);
        // Both roots are symmetric, so their column-major arrays are also row-major.
        var rootA = (evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(evd.EigenValues.Real().PointwiseSqrt()) * evd.EigenVectors.Transpose()).ToColumnMajorArray();
        var rootAInverse = (evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(evd.EigenValues.Real().Map(v => 1 / Math.Sqrt(v))) * evd.EigenVectors.Transpose()).ToColumnMajorArray();
        var beta = betas.Select(b => b.ToArray()).ToArray();

        var meats = betas.Select(_ => new double[p * p]).ToArray();
        var m = new double[p * p];
        var mRoot = new double[p * p];
        var b = Matrix<double>.Build.Dense(p, p);
        var (scores, rooted, projected, u) = (new double[p], new double[p], new double[p], new double[p]);
        var g = 0;
        foreach (var (xtx, xty, n) in clusters)
        {
            if (n == 0) continue;
            g++;
            for (var i = 0; i < p; i++)
                for (var j = 0; j < p; j++) m[i * p + j] = xtx[columns[i] * width + columns[j]];
            // B_g = A^(1/2) X_g'X_g A^(1/2): symmetric, so its upper triangle, mirrored.
            for (var i = 0; i < p; i++)
                for (var j = 0; j < p; j++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < p; k++) sum += m[i * p + k] * rootA[k * p + j];
                    mRoot[i * p + j] = sum;
                }
            for (var i = 0; i < p; i++)
                for (var j = i; j < p; j++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < p; k++) sum += rootA[i * p + k] * mRoot[k * p + j];
                    b[i, j] = b[j, i] = sum;
                }
            var bEvd = b.Evd(Symmetricity.Symmetric);
            var vectors = bEvd.EigenVectors.ToColumnMajorArray(); // V[k, i] at i * p + k
            var values = bEvd.EigenValues;

            for (var o = 0; o < beta.Length; o++)
            {
                // X_g'e_g = X_g'y_g − X_g'X_g β, then u_g = A^(−1/2) V f(Λ) V' A^(1/2) X_g'e_g.
                for (var i = 0; i < p; i++)
                {
                    var fitted = 0.0;
                    for (var j = 0; j < p; j++) fitted += m[i * p + j] * beta[o][j];
                    scores[i] = xty[o][columns[i]] - fitted;
                }
                Multiply(rootA, scores, rooted);
                for (var i = 0; i < p; i++)
                {
                    var l = values[i].Real;
                    var dot = 0.0;
                    for (var k = 0; k < p; k++) dot += vectors[i * p + k] * rooted[k];
                    projected[i] = (1 - l > Tolerance ? 1 / Math.Sqrt(1 - l) : 0) * dot;
                }
                for (var k = 0; k < p; k++)
                {
                    var sum = 0.0;
                    for (var i = 0; i < p; i++) sum += vectors[i * p + k] * projected[i];
                    rooted[k] = sum;
                }
                Multiply(rootAInverse, rooted, u);
                for (var i = 0; i < p; i++)
                    for (var j = 0; j < p; j++) meats[o][i * p + j] += u[i] * u[j];
            }
        }
        return ([.. meats.Select(meat => g < 2 ? null : inverse * Matrix<double>.Build.Dense(p, p, meat) * inverse)], g);
    }

    /// <summary>result = matrix · vector, the matrix p×p row-major.</summary>
    private static void Multiply(double[] matrix, double[] vector, double[] result)
    {
        var p = vector.Length;
        for (var i = 0; i < p; i++)
        {
            var sum = 0.0;
            for (var k = 0; k < p; k++) sum += matrix[i * p + k] * vector[k];
            result[i] = sum;
        }
    }
}

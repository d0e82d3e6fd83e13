using System.IO.Hashing;
using System.Runtime.InteropServices;
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
    /// design, so each clinic's leverage decomposition (the costly part) is made once for all of them,
    /// and <paramref name="remember"/> may keep it for later studies of the same design (see
    /// <see cref="Leverage"/>). The p×p products are loops over flat arrays: MathNet's general
    /// product and its two-dimensional arrays cost more per call than the arithmetic at this size.</summary>
    public static (Matrix<double>?[] Covariances, int Clusters) Covariance(Matrix<double> inverse, IReadOnlyList<Vector<double>> betas,
        IReadOnlyList<int> columns, IEnumerable<(long[] XtX, IReadOnlyList<long[]> Xty, long N)> clusters, int width,
        Func<string, Func<Leverage>, Leverage>? remember = null)
    {
        var p = columns.Count;
        var kept = clusters.Where(c => c.N != 0).ToList();
        var designs = kept.Select(c => c.XtX).ToList();
        var leverage = remember?.Invoke(Leverage.Key(designs, columns), () => Leverage.Of(inverse, columns, designs, width)) is { } known
                       && known.Matches(designs, columns, width)
            ? known
            : Leverage.Of(inverse, columns, designs, width);
        var beta = betas.Select(b => b.ToArray()).ToArray();

        var meats = betas.Select(_ => new double[p * p]).ToArray();
        var (scores, rooted, projected, u) = (new double[p], new double[p], new double[p], new double[p]);
        for (var g = 0; g < kept.Count; g++)
        {
            var (m, vectors, values) = (leverage.Grams[g], leverage.Vectors[g], leverage.Values[g]);
            for (var o = 0; o < beta.Length; o++)
            {
                // X_g'e_g = X_g'y_g − X_g'X_g β, then u_g = A^(−1/2) V f(Λ) V' A^(1/2) X_g'e_g.
                for (var i = 0; i < p; i++)
                {
                    var fitted = 0.0;
                    for (var j = 0; j < p; j++) fitted += m[i * p + j] * beta[o][j];
                    scores[i] = kept[g].Xty[o][columns[i]] - fitted;
                }
                Multiply(leverage.RootA, scores, rooted);
                for (var i = 0; i < p; i++)
                {
                    var l = values[i];
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
                Multiply(leverage.RootAInverse, rooted, u);
                for (var i = 0; i < p; i++)
                    for (var j = 0; j < p; j++) meats[o][i * p + j] += u[i] * u[j];
            }
        }
        var clustersInModel = kept.Count;
        return ([.. meats.Select(meat => clustersInModel < 2 ? null : inverse * Matrix<double>.Build.Dense(p, p, meat) * inverse)], clustersInModel);
    }

    /// <summary>The half of CR2 that depends on the design alone: A^(±1/2) and, per clinic with
    /// episodes, X_g'X_g over the kept columns with the eigen-decomposition of B_g. Every study that
    /// shares a design (the same cohort and threshold, whatever its MCIDs or outcome) shares it:
    /// a sensitivity analysis over MCIDs does the costly part once. It is a function of the kept
    /// columns and each clinic's X'X over them (A is their sum's inverse) alone, and it holds both (the
    /// Gram matrices are those integers, exact as doubles) to prove a match: a remembered one is used
    /// only when they are equal, so it is exactly what would be computed again.</summary>
    public sealed class Leverage
    {
        private int[] _columns = [];
        public double[] RootA { get; private init; } = [];
        public double[] RootAInverse { get; private init; } = [];
        public double[][] Grams { get; private init; } = [];
        /// <summary>Per clinic, the eigenvectors of B_g (V[k, i] at i * p + k) and its eigenvalues.</summary>
        public double[][] Vectors { get; private init; } = [];
        public double[][] Values { get; private init; } = [];

        /// <summary>A key for remembering: a hash of the kept columns and every clinic's X'X.</summary>
        public static string Key(IReadOnlyList<long[]> designs, IReadOnlyList<int> columns)
        {
            var hash = new XxHash128();
            hash.Append(MemoryMarshal.AsBytes(columns.ToArray().AsSpan()));
            foreach (var xtx in designs) hash.Append(MemoryMarshal.AsBytes(xtx.AsSpan()));
            return $"cr2:{designs.Count}:{Convert.ToHexString(hash.GetCurrentHash())}";
        }

        public bool Matches(IReadOnlyList<long[]> designs, IReadOnlyList<int> columns, int width)
        {
            if (designs.Count != Grams.Length || !columns.SequenceEqual(_columns)) return false;
            var p = _columns.Length;
            for (var g = 0; g < designs.Count; g++)
                for (var i = 0; i < p; i++)
                    for (var j = 0; j < p; j++)
                        if (Grams[g][i * p + j] != designs[g][_columns[i] * width + _columns[j]]) return false;
            return true;
        }

        public static Leverage Of(Matrix<double> inverse, IReadOnlyList<int> columns, IReadOnlyList<long[]> designs, int width)
        {
            var p = columns.Count;
            var evd = inverse.Evd(Symmetricity.Symmetric);
            // Both roots are symmetric, so their column-major arrays are also row-major.
            var rootA = (evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(evd.EigenValues.Real().PointwiseSqrt()) * evd.EigenVectors.Transpose()).ToColumnMajorArray();
            var rootAInverse = (evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(evd.EigenValues.Real().Map(v => 1 / Math.Sqrt(v))) * evd.EigenVectors.Transpose()).ToColumnMajorArray();
            var (grams, vectors, values) = (new double[designs.Count][], new double[designs.Count][], new double[designs.Count][]);
            var mRoot = new double[p * p];
            var b = Matrix<double>.Build.Dense(p, p);
            for (var g = 0; g < designs.Count; g++)
            {
                var (xtx, m) = (designs[g], grams[g] = new double[p * p]);
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
                vectors[g] = bEvd.EigenVectors.ToColumnMajorArray();
                values[g] = [.. bEvd.EigenValues.Select(v => v.Real)];
            }
            return new Leverage
            {
                _columns = [.. columns],
                RootA = rootA, RootAInverse = rootAInverse, Grams = grams, Vectors = vectors, Values = values,
            };
        }
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

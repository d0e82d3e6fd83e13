using MathNet.Numerics.LinearAlgebra;
using MatOutcomes.Platform.Outcomes.Cube;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>An adjusted early-versus-chronic difference. <see cref="StandardError"/>, <see cref="Lower"/>
/// and <see cref="Upper"/> are the headline interval, the one <see cref="Inference"/> names: cluster-robust
/// by clinic (CR2, t on G − 1 df) when the study spans two clinics or more, since patients of one clinic
/// share its practitioners and case mix; classical when it spans one clinic. Both are reported.</summary>
public sealed record AdjustedEstimate(double? Estimate, double? StandardError, double? Lower, double? Upper, long? N,
    int? Parameters, bool Suppressed, InferenceKind? Inference, Inference Classical, Inference ClusterRobust)
{
    /// <summary>Withheld: nothing derived from the data, not even the number of parameters.</summary>
    public static readonly AdjustedEstimate Withheld = new(null, null, null, null, null, null, true, null, Studying.Inference.Withheld, Studying.Inference.Withheld);
}

public sealed record ClinicBenchmark(string Clinic, long? N, double? Observed, double? Expected, double? ObservedMinusExpected,
    double? Lower, double? Upper, bool Suppressed);

public enum ModelOutcome { Change, Responder }

/// <summary>Ordinary least squares of an NPRS outcome on early-versus-chronic, baseline NPRS, region,
/// age band, sex and occupation, fitted from X'X and X'y summed over cells (<see cref="ModelSums"/>):
/// every covariate but baseline is constant within a cell, so the fit is exact and costs O(cells).</summary>
public sealed class AdjustedModel
{
    private Vector<double>? _beta;
    private Matrix<double>? _inverse;
    private int[] _columns = [];

    public long N { get; private set; }
    public int Parameters { get; private set; }
    public ModelOutcome Outcome { get; private set; }
    public double ResidualVariance { get; private set; }
    public bool Fitted => _beta is not null;

    public static AdjustedModel Fit(ModelSums sums, ModelOutcome outcome)
    {
        var model = new AdjustedModel { N = sums.N, Outcome = outcome };
        var width = Design.Width;
        var xtx = Matrix<double>.Build.Dense(width, width, (i, j) => sums.XtX[i * width + j]);
        var xty = outcome == ModelOutcome.Change ? sums.XtyChange : sums.XtyResponder;
        double yty = outcome == ModelOutcome.Change ? sums.YtyChange : sums.YtyResponder;

        model._columns = IndependentColumns(xtx, Enumerable.Range(0, width));
        // No patient at all: nothing to fit (and MathNet's SVD fails on a 0×0 matrix).
        if (model._columns.Length == 0) return model;
        var a = Matrix<double>.Build.Dense(model._columns.Length, model._columns.Length, (i, j) => xtx[model._columns[i], model._columns[j]]);
        var v = Vector<double>.Build.Dense(model._columns.Length, i => xty[model._columns[i]]);
        model.Parameters = model._columns.Length;
        if (model.N <= model.Parameters) return model;

        model._inverse = a.Inverse();
        model._beta = model._inverse * v;
        var rss = yty - model._beta.DotProduct(v);
        model.ResidualVariance = Math.Max(0, rss / (model.N - model.Parameters));
        return model;
    }

    /// <summary>The candidate columns, in order, that add information to the ones kept before them:
    /// levels with no episodes leave empty columns, and a filter to one region makes that region's
    /// dummy equal the intercept. A column adds information when its part not explained by the kept
    /// ones (its Cholesky pivot in <paramref name="gram"/>, X'X or any X'WX with positive weights) is
    /// not negligible; one factorisation instead of a rank per candidate column.</summary>
    public static int[] IndependentColumns(Matrix<double> gram, IEnumerable<int> candidates)
    {
        var kept = new List<int>();
        var lower = new double[gram.RowCount, gram.RowCount];
        foreach (var column in candidates.Where(i => gram[i, i] > 0))
        {
            var row = new double[kept.Count];
            for (var i = 0; i < kept.Count; i++)
            {
                var sum = gram[kept[i], column];
                for (var j = 0; j < i; j++) sum -= lower[i, j] * row[j];
                row[i] = sum / lower[i, i];
            }
            var pivot = gram[column, column] - row.Sum(x => x * x);
            if (pivot <= 1e-9 * gram[column, column]) continue;
            for (var j = 0; j < row.Length; j++) lower[kept.Count, j] = row[j];
            lower[kept.Count, kept.Count] = Math.Sqrt(pivot);
            kept.Add(column);
        }
        return [.. kept];
    }

    /// <summary>The coefficient of "early" in each model (fitted from the same sums, so with one
    /// design): early minus chronic, adjusted for the other covariates, with its classical interval
    /// and its cluster-robust one over <paramref name="clusters"/> (the same sums per clinic).</summary>
    public static AdjustedEstimate[] EarlyEffects(IReadOnlyList<AdjustedModel> models, int k, bool suppressed, IReadOnlyList<ModelSums> clusters,
        Func<string, Func<ClusterRobust.Leverage>, ClusterRobust.Leverage>? remember = null)
    {
        var first = models[0];
        var at = Array.IndexOf(first._columns, Design.Early);
        if (suppressed || first.N < k || !first.Fitted || at < 0) return [.. models.Select(_ => AdjustedEstimate.Withheld)];
        if (models.Any(m => m.N != first.N || !m._columns.SequenceEqual(first._columns)))
            throw new ArgumentException("The models do not share one design.", nameof(models));

        var (covariances, g) = ClusterRobust.Covariance(first._inverse!, [.. models.Select(m => m._beta!)], first._columns,
            clusters.Select(c => (c.XtX, (IReadOnlyList<long[]>)[.. models.Select(m => m.Outcome == ModelOutcome.Change ? c.XtyChange : c.XtyResponder)], c.N)),
            Design.Width, remember);
        return [.. models.Select((model, i) =>
        {
            var estimate = model._beta![at];
            var classical = Studying.Inference.Interval(estimate, Math.Sqrt(model.ResidualVariance * model._inverse![at, at]), model.N - model.Parameters, null);
            var robust = covariances[i] is { } covariance
                ? Studying.Inference.Interval(estimate, Math.Sqrt(covariance[at, at]), g - 1, g)
                : new Inference(null, null, null, null, g, false);
            var (kind, headline) = robust.StandardError is null ? (InferenceKind.Classical, classical) : (InferenceKind.ClusterRobust, robust);
            return new AdjustedEstimate(estimate, headline.StandardError, headline.Lower, headline.Upper, model.N, model.Parameters, false, kind, classical, robust);
        })];
    }

    /// <summary>Observed minus expected mean outcome of one clinic (expected from the network model,
    /// which knows case mix but not clinic), FOTO-style. The clinic's X'X row of the intercept is
    /// the sum of its design rows, so its expected sum is that row times the coefficients.</summary>
    public ClinicBenchmark Benchmark(string clinic, ModelSums sums, ModelOutcome outcome, int k, bool suppressed)
    {
        var n = sums.N;
        if (suppressed || n < k || !Fitted) return new ClinicBenchmark(clinic, null, null, null, null, null, null, true);
        var xty = outcome == ModelOutcome.Change ? sums.XtyChange : sums.XtyResponder;
        var observed = (double)xty[0] / n;
        var expected = _columns.Select((c, i) => sums.XtX[c] * _beta![i]).Sum() / n;
        var half = Statistics.T(N - Parameters) * Math.Sqrt(ResidualVariance / n);
        var difference = observed - expected;
        return new ClinicBenchmark(clinic, n, observed, expected, difference, difference - half, difference + half, false);
    }
}

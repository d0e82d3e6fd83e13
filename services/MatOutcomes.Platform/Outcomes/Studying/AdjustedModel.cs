using MathNet.Numerics.LinearAlgebra;
using MatOutcomes.Platform.Outcomes.Cube;

namespace MatOutcomes.Platform.Outcomes.Studying;

public sealed record AdjustedEstimate(double? Estimate, double? StandardError, double? Lower, double? Upper, long? N,
    int? Parameters, bool Suppressed);

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
    public double ResidualVariance { get; private set; }
    public bool Fitted => _beta is not null;

    public static AdjustedModel Fit(ModelSums sums, ModelOutcome outcome)
    {
        var model = new AdjustedModel { N = sums.N };
        var width = Design.Width;
        var xtx = Matrix<double>.Build.Dense(width, width, (i, j) => sums.XtX[i * width + j]);
        var xty = outcome == ModelOutcome.Change ? sums.XtyChange : sums.XtyResponder;
        double yty = outcome == ModelOutcome.Change ? sums.YtyChange : sums.YtyResponder;

        // Keep each column only if it adds information: levels with no patients leave empty
        // columns, and a filter to one region makes that region's dummy equal the intercept. A
        // column adds information when its part not explained by the kept ones (its Cholesky pivot
        // in X'X) is not negligible; one factorisation instead of a rank per candidate column.
        var kept = new List<int>();
        var lower = new double[width, width];
        foreach (var column in Enumerable.Range(0, width).Where(i => xtx[i, i] > 0))
        {
            var row = new double[kept.Count];
            for (var i = 0; i < kept.Count; i++)
            {
                var sum = xtx[kept[i], column];
                for (var j = 0; j < i; j++) sum -= lower[i, j] * row[j];
                row[i] = sum / lower[i, i];
            }
            var pivot = xtx[column, column] - row.Sum(x => x * x);
            if (pivot <= 1e-9 * xtx[column, column]) continue;
            for (var j = 0; j < row.Length; j++) lower[kept.Count, j] = row[j];
            lower[kept.Count, kept.Count] = Math.Sqrt(pivot);
            kept.Add(column);
        }
        model._columns = [.. kept];
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

    /// <summary>The coefficient of "early": early minus chronic, adjusted for the other covariates.</summary>
    public AdjustedEstimate EarlyEffect(int k, bool suppressed)
    {
        var at = Array.IndexOf(_columns, Design.Early);
        if (suppressed || N < k || !Fitted || at < 0) return new(null, null, null, null, null, null, true);
        var estimate = _beta![at];
        var se = Math.Sqrt(ResidualVariance * _inverse![at, at]);
        var half = Statistics.T(N - Parameters) * se;
        return new(estimate, se, estimate - half, estimate + half, N, Parameters, false);
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

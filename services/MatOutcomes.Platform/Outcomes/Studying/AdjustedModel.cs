using MathNet.Numerics.LinearAlgebra;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

public sealed record AdjustedEstimate(double? Estimate, double? StandardError, double? Lower, double? Upper, long? N,
    int Parameters, bool Suppressed);

public sealed record ClinicBenchmark(string Clinic, long? N, double? Observed, double? Expected, double? ObservedMinusExpected,
    double? Lower, double? Upper, bool Suppressed);

/// <summary>Ordinary least squares of an NPRS outcome on early-versus-chronic, baseline NPRS, region,
/// age band, sex and occupation, fitted from the cells alone: every covariate but baseline is
/// constant within a cell, so X'X and X'y are sums over cells of moments the cells hold.</summary>
public sealed class AdjustedModel
{
    private static readonly ComplaintRegion[] Regions = Enum.GetValues<ComplaintRegion>();
    private static readonly AgeBand[] Ages = Enum.GetValues<AgeBand>();
    private static readonly Sex[] Sexes = Enum.GetValues<Sex>();
    private static readonly OccupationGroup[] Occupations = Enum.GetValues<OccupationGroup>();

    private readonly Func<CellKey, bool> _early;
    private readonly Func<int, int, double> _outcome;
    private Vector<double>? _beta;
    private Matrix<double>? _inverse;

    private AdjustedModel(Func<CellKey, bool> early, Func<int, int, double> outcome) => (_early, _outcome) = (early, outcome);

    public long N { get; private set; }
    public int Parameters { get; private set; }
    public double ResidualVariance { get; private set; }
    private int[] _columns = [];

    /// <summary>Categorical part of a cell's design row: intercept, early, then treatment-coded
    /// dummies (first level of each factor is the reference). Baseline NPRS is the last column.</summary>
    private double[] Categorical(CellKey key)
    {
        var row = new List<double> { 1, _early(key) ? 1 : 0 };
        row.AddRange(Regions.Skip(1).Select(r => key.Region == r ? 1.0 : 0));
        row.AddRange(Ages.Skip(1).Select(a => key.AgeBand == a ? 1.0 : 0));
        row.AddRange(Sexes.Skip(1).Select(s => key.Sex == s ? 1.0 : 0));
        row.AddRange(Occupations.Skip(1).Select(o => key.Occupation == o ? 1.0 : 0));
        return [.. row];
    }

    private sealed record CellMoments(double N, double B, double BB, double Y, double BY, double YY);

    private CellMoments MomentsOf(OutcomeCell cell)
    {
        double n = 0, b = 0, bb = 0, y = 0, by = 0, yy = 0;
        foreach (var (at, count) in cell.NprsPairs)
        {
            var (baseline, latest) = (at / 11, at % 11);
            var value = _outcome(baseline, latest);
            n += count; b += count * baseline; bb += count * baseline * baseline;
            y += count * value; by += count * baseline * value; yy += count * value * value;
        }
        return new(n, b, bb, y, by, yy);
    }

    /// <param name="outcome">The outcome from (baseline, latest) NPRS: change, or a responder 0/1.</param>
    public static AdjustedModel Fit(IReadOnlyCollection<OutcomeCell> cells, Func<CellKey, bool> early, Func<int, int, double> outcome)
    {
        var model = new AdjustedModel(early, outcome);
        var width = model.Categorical(cells.FirstOrDefault()?.Key ?? new CellKey("", 0, default, default, default, default, default, "2000-01", true)).Length + 1;
        var xtx = Matrix<double>.Build.Dense(width, width);
        var xty = Vector<double>.Build.Dense(width);
        double yty = 0;
        foreach (var cell in cells)
        {
            var m = model.MomentsOf(cell);
            if (m.N == 0) continue;
            var z = model.Categorical(cell.Key);
            // Row r = [z, b]: X'X += [n·zz', z·Σb; Σb·z', Σb²];  X'y += [z·Σy; Σby].
            for (var i = 0; i < z.Length; i++)
            {
                for (var j = 0; j < z.Length; j++) xtx[i, j] += m.N * z[i] * z[j];
                xtx[i, width - 1] += z[i] * m.B;
                xtx[width - 1, i] += z[i] * m.B;
                xty[i] += z[i] * m.Y;
            }
            xtx[width - 1, width - 1] += m.BB;
            xty[width - 1] += m.BY;
            yty += m.YY;
            model.N += (long)m.N;
        }

        // Keep each column only if it adds information: levels with no patients leave empty
        // columns, and a filter to one region makes that region's dummy equal the intercept.
        var kept = new List<int>();
        foreach (var column in Enumerable.Range(0, width).Where(i => xtx[i, i] > 0))
        {
            var trial = kept.Append(column).ToArray();
            if (Matrix<double>.Build.Dense(trial.Length, trial.Length, (i, j) => xtx[trial[i], trial[j]]).Rank() == trial.Length)
                kept.Add(column);
        }
        model._columns = [.. kept];
        // No patient at all (an empty network, or a filter matching nothing): nothing to fit, and
        // MathNet's SVD fails on a 0×0 matrix.
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

    public bool Fitted => _beta is not null;

    /// <summary>The coefficient of "early": early minus chronic, adjusted for the other covariates.</summary>
    public AdjustedEstimate EarlyEffect(int k, bool suppressed)
    {
        var at = Array.IndexOf(_columns, 1);
        if (suppressed || N < k || !Fitted || at < 0) return new(null, null, null, null, null, Parameters, true);
        var estimate = _beta![at];
        var se = Math.Sqrt(ResidualVariance * _inverse![at, at]);
        var half = Statistics.T(N - Parameters) * se;
        return new(estimate, se, estimate - half, estimate + half, N, Parameters, false);
    }

    /// <summary>Expected outcome summed over a cell's patients under the fitted model.</summary>
    private double ExpectedSum(OutcomeCell cell)
    {
        var m = MomentsOf(cell);
        var z = Categorical(cell.Key);
        var full = Vector<double>.Build.Dense(z.Length + 1);
        for (var i = 0; i < z.Length; i++) full[i] = z[i] * m.N;
        full[z.Length] = m.B;
        return _columns.Select((c, i) => full[c] * _beta![i]).Sum();
    }

    /// <summary>Observed minus expected mean outcome per clinic (expected from the network model,
    /// which knows case mix but not clinic), FOTO-style.</summary>
    public IReadOnlyList<ClinicBenchmark> Benchmarks(IReadOnlyCollection<OutcomeCell> cells, int k, bool suppressed) =>
        cells.GroupBy(c => c.Key.Clinic).OrderBy(g => g.Key).Select(g =>
        {
            var n = (long)g.Sum(c => MomentsOf(c).N);
            if (suppressed || n < k || !Fitted) return new ClinicBenchmark(g.Key, null, null, null, null, null, null, true);
            var observed = g.Sum(c => MomentsOf(c).Y) / n;
            var expected = g.Sum(ExpectedSum) / n;
            var half = Statistics.T(N - Parameters) * Math.Sqrt(ResidualVariance / n);
            var difference = observed - expected;
            return new ClinicBenchmark(g.Key, n, observed, expected, difference, difference - half, difference + half, false);
        }).ToList();
}

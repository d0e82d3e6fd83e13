using MathNet.Numerics.LinearAlgebra;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>One covariate level's balance between early and chronic: the standardized mean
/// difference before and after weighting, over the unweighted pooled SD (both times, so a change is
/// a change of means). Withheld when the level holds 1 to k − 1 episodes in either cohort; only
/// SMDs are shown, never a level's count or share.</summary>
public sealed record BalanceRow(string Covariate, string? Level, double? SmdBefore, double? SmdAfter, bool Suppressed);

/// <summary>The stabilised weights of one cohort: their mean (1 when the weights are well behaved)
/// and Kish's effective number of episodes, (Σw)² / Σw².</summary>
public sealed record WeightSummary(double? MeanWeight, double? EffectiveEpisodes);

/// <summary>Early minus chronic by inverse probability of treatment weighting: what the difference
/// would be if early and chronic episodes had the case mix of the whole study (the average
/// "treatment" effect of being early, over the study's scored episodes).</summary>
public sealed record WeightedComparison(bool Suppressed, long? N, bool Converged, int Parameters,
    AdjustedEstimate DurableChange, AdjustedEstimate Responders, WeightSummary Early, WeightSummary Chronic,
    IReadOnlyList<BalanceRow> Balance)
{
    public static readonly WeightedComparison Withheld = new(true, null, false, 0, AdjustedEstimate.Withheld, AdjustedEstimate.Withheld,
        new WeightSummary(null, null), new WeightSummary(null, null), []);
}

/// <summary>IPTW from the cells. The propensity score is a logistic regression of early on region,
/// age band, sex, occupation (dummies) and baseline NPRS (linear), fitted by IRLS on grouped data:
/// every covariate but baseline is constant within a cell, and baseline comes from the cell's
/// (baseline, latest NPRS) pairs, so the episodes with a durable change fall into (clinic, covariate
/// pattern, baseline) groups whose counts and outcome sums (Σy, Σy², integers) are all the fit, the
/// weights, the estimate and its sandwich need. Exact, and O(cells). Stabilised weights: P(early)/e
/// for early, P(chronic)/(1 − e) for chronic. The estimate is the difference of weighted (Hájek)
/// means. Its variance is the M-estimation sandwich of the stacked score equations (propensity
/// model and both weighted means), so the estimated propensity score is accounted for; the
/// cluster-robust version sums the estimating functions per clinic (× G/(G − 1), t on G − 1 df).
/// A dummy whose level is all early or all chronic is left out of the propensity model (its
/// coefficient has no finite estimate); the balance table then shows that level unbalanced.</summary>
public static class Weighting
{
    private const int MaxIterations = 100;
    private const double Converged = 1e-10;

    /// <summary>Episodes of one (clinic, pattern, baseline, cohort): count and outcome sums.</summary>
    private sealed class Tally
    {
        public long N, Y, YY, R;
    }

    /// <summary>Episodes of one (clinic, covariate pattern, baseline), early and chronic apart; then
    /// the group's propensity-model row and its fitted propensity score.</summary>
    private sealed class Group(string clinic, long pattern, int baseline)
    {
        public string Clinic { get; } = clinic;
        public long Pattern { get; } = pattern;
        public int Baseline { get; } = baseline;
        public Tally Early { get; } = new();
        public Tally Chronic { get; } = new();
        public double[] Row { get; set; } = [];
        public double E { get; set; }
    }

    public static WeightedComparison Compare(CubeSnapshot snapshot, CellFilter filter, StudyQuery query, int k, bool suppressed)
    {
        if (suppressed) return WeightedComparison.Withheld;
        var groups = Groups(snapshot, filter, query);
        long n1 = groups.Sum(g => g.Early.N), n0 = groups.Sum(g => g.Chronic.N);
        if (n1 < k || n0 < k) return WeightedComparison.Withheld;

        var columns = Columns(groups);
        foreach (var g in groups) g.Row = [.. columns.Select(c => c == Design.Baseline ? g.Baseline : Design.Columns(g.Pattern, false).Contains(c) ? 1.0 : 0)];
        var pEarly = (double)n1 / (n1 + n0);
        var beta = Fit(groups, columns.Length, pEarly);
        var n = n1 + n0;
        if (beta is null)
            return WeightedComparison.Withheld with { Suppressed = false, N = n, Parameters = columns.Length };
        foreach (var g in groups) g.E = Expit(Dot(g.Row, beta));

        return new WeightedComparison(false, n, true, columns.Length,
            Estimate(groups, columns.Length, k, t => t.Y, t => t.YY),
            Estimate(groups, columns.Length, k, t => t.R, t => t.R),
            Summary(groups, early: true, pEarly), Summary(groups, early: false, pEarly),
            Balance(groups, k));
    }

    /// <summary>The study's scored episodes in (clinic, covariate pattern, baseline) groups, in a fixed
    /// order (clinic id, pattern, baseline) so that every sum of doubles is the same live and replayed.</summary>
    private static List<Group> Groups(CubeSnapshot snapshot, CellFilter filter, StudyQuery query)
    {
        var patternMask = PackedKey.Mask(Dimension.Region | Dimension.Occupation | Dimension.AgeBand | Dimension.Sex);
        var rule = query.NprsRule;
        var groups = new Dictionary<(int Clinic, long Pattern, int Baseline), Group>();
        foreach (var cell in snapshot.TableFor(filter.Restricted | Dimension.Covariates | Dimension.Clinic).Cells)
        {
            if (cell.Stats.Episodes == 0 || !filter.Matches(cell.Key)) continue;
            var early = query.IsEarly(PackedKey.Duration(cell.Key));
            var (slots, counts) = (cell.Stats.Slots, cell.Stats.Counts);
            var start = Array.BinarySearch(slots, Slots.Latest);
            for (var i = start >= 0 ? start : ~start; i < slots.Length && slots[i] < Slots.Latest + 121; i++)
            {
                int b = (slots[i] - Slots.Latest) / 11, score = (slots[i] - Slots.Latest) % 11;
                var at = (PackedKey.Clinic(cell.Key), cell.Key & patternMask, b);
                if (!groups.TryGetValue(at, out var group))
                    groups[at] = group = new Group(snapshot.Clinics[at.Item1], at.Item2, b);
                var tally = early ? group.Early : group.Chronic;
                long count = counts[i], y = b - score, r = rule.Improved(b, score) ? 1 : 0;
                tally.N += count;
                tally.Y += count * y;
                tally.YY += count * y * y;
                tally.R += count * r;
            }
        }
        return [.. groups.Values.OrderBy(g => g.Clinic, StringComparer.Ordinal).ThenBy(g => g.Pattern).ThenBy(g => g.Baseline)];
    }

    /// <summary>The design columns of the propensity model (every risk-adjustment column but early):
    /// those with data, whose level is not entirely in one cohort, and independent of the others.</summary>
    private static int[] Columns(IReadOnlyList<Group> groups)
    {
        var w = Design.Width;
        var gram = Matrix<double>.Build.Dense(w, w);
        var early = new double[w];
        var chronic = new double[w];
        foreach (var g in groups)
        {
            var x = new double[w];
            foreach (var c in Design.Columns(g.Pattern, false)) x[c] = 1;
            x[Design.Baseline] = g.Baseline;
            for (var i = 0; i < w; i++)
            {
                early[i] += g.Early.N * x[i];
                chronic[i] += g.Chronic.N * x[i];
                for (var j = 0; j < w; j++) gram[i, j] += (g.Early.N + g.Chronic.N) * x[i] * x[j];
            }
        }
        var candidates = Enumerable.Range(0, w).Where(c => c != Design.Early &&
            (c == 0 || c == Design.Baseline || (early[c] > 0 && chronic[c] > 0)));
        return AdjustedModel.IndependentColumns(gram, candidates);
    }

    /// <summary>Logistic regression by iteratively reweighted least squares (Newton's method for the
    /// canonical link) on grouped binomial data: one group per (covariate pattern, baseline) across
    /// clinics, since the score does not depend on the clinic. Null if it does not converge.</summary>
    private static Vector<double>? Fit(IReadOnlyList<Group> groups, int p, double pEarly)
    {
        var binomial = groups.GroupBy(g => (g.Pattern, g.Baseline))
            .Select(s => (Row: Vector<double>.Build.Dense(s.First().Row), Early: (double)s.Sum(g => g.Early.N), N: (double)s.Sum(g => g.Early.N + g.Chronic.N)))
            .ToList();
        var beta = Vector<double>.Build.Dense(p);
        beta[0] = Math.Log(pEarly / (1 - pEarly));
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            var information = Matrix<double>.Build.Dense(p, p);
            var score = Vector<double>.Build.Dense(p);
            foreach (var (x, early, n) in binomial)
            {
                var e = Expit(x.DotProduct(beta));
                AddOuter(information, x, x, n * e * (1 - e));
                score.Add(x * (early - n * e), score);
            }
            Vector<double> step;
            try { step = information.Cholesky().Solve(score); }
            catch (ArgumentException) { return null; }
            beta += step;
            if (step.AbsoluteMaximum() < Converged) return beta;
        }
        return null;
    }

    /// <summary>m += scale · a b'.</summary>
    private static void AddOuter(Matrix<double> m, Vector<double> a, Vector<double> b, double scale)
    {
        for (var i = 0; i < a.Count; i++)
            for (var j = 0; j < b.Count; j++)
                m[i, j] += scale * a[i] * b[j];
    }

    /// <summary>The weighted difference of means of one outcome with its two sandwich intervals.
    /// θ = (γ, μ1, μ0); per episode ψ = (x(t − e), t(y − μ1)/e, (1 − t)(y − μ0)/(1 − e)).</summary>
    private static AdjustedEstimate Estimate(IReadOnlyList<Group> groups, int p, int k, Func<Tally, long> sum, Func<Tally, long> sumOfSquares)
    {
        double w1 = 0, wy1 = 0, w0 = 0, wy0 = 0;
        foreach (var g in groups)
        {
            w1 += g.Early.N / g.E;
            wy1 += sum(g.Early) / g.E;
            w0 += g.Chronic.N / (1 - g.E);
            wy0 += sum(g.Chronic) / (1 - g.E);
        }
        double mu1 = wy1 / w1, mu0 = wy0 / w0;
        var d = p + 2;
        int m1 = p, m0 = p + 1;

        var bread = Matrix<double>.Build.Dense(d, d);
        var meat = Matrix<double>.Build.Dense(d, d);
        var perClinic = new List<(string Clinic, Vector<double> U)>();
        foreach (var g in groups)
        {
            var e = g.E;
            var x = Vector<double>.Build.Dense(g.Row);
            double n1 = g.Early.N, n0 = g.Chronic.N;
            // Per group, sums over its episodes: of y − μ, and of (y − μ)², from Σy and Σy².
            double r1 = sum(g.Early) - n1 * mu1, r0 = sum(g.Chronic) - n0 * mu0;
            double ss1 = sumOfSquares(g.Early) - 2 * mu1 * sum(g.Early) + n1 * mu1 * mu1;
            double ss0 = sumOfSquares(g.Chronic) - 2 * mu0 * sum(g.Chronic) + n0 * mu0 * mu0;

            // Bread: minus the derivative of Σψ with respect to θ.
            AddOuter(bread, x, x, (n1 + n0) * e * (1 - e));
            for (var i = 0; i < p; i++)
            {
                bread[m1, i] += (1 - e) / e * r1 * x[i];
                bread[m0, i] -= e / (1 - e) * r0 * x[i];
            }
            bread[m1, m1] += n1 / e;
            bread[m0, m0] += n0 / (1 - e);

            // Meat: Σψψ' over the episodes, each assumed independent.
            AddOuter(meat, x, x, n1 * (1 - e) * (1 - e) + n0 * e * e);
            for (var i = 0; i < p; i++)
            {
                var early = (1 - e) / e * r1 * x[i];
                var chronic = -e / (1 - e) * r0 * x[i];
                meat[i, m1] += early; meat[m1, i] += early;
                meat[i, m0] += chronic; meat[m0, i] += chronic;
            }
            meat[m1, m1] += ss1 / (e * e);
            meat[m0, m0] += ss0 / ((1 - e) * (1 - e));

            // The clinic's Σψ, for the cluster-robust meat (groups come clinic by clinic).
            var u = Vector<double>.Build.Dense(d);
            u.SetSubVector(0, p, x * (n1 * (1 - e) - n0 * e));
            u[m1] = r1 / e;
            u[m0] = r0 / (1 - e);
            if (perClinic.Count == 0 || perClinic[^1].Clinic != g.Clinic) perClinic.Add((g.Clinic, u));
            else perClinic[^1].U.Add(u, perClinic[^1].U);
        }

        var n = groups.Sum(g => g.Early.N + g.Chronic.N);
        var contrast = Vector<double>.Build.Dense(d);
        contrast[m1] = 1;
        contrast[m0] = -1;
        var breadInverse = bread.Inverse();
        double Variance(Matrix<double> m) => contrast * (breadInverse * m * breadInverse.Transpose()) * contrast;

        var estimate = mu1 - mu0;
        var classical = Inference.Interval(estimate, Math.Sqrt(Variance(meat)), n - d, null);
        var clusters = perClinic.Count;
        var robust = new Inference(null, null, null, null, clusters, false);
        if (clusters >= 2)
        {
            var clustered = Matrix<double>.Build.Dense(d, d);
            foreach (var (_, u) in perClinic) AddOuter(clustered, u, u, 1);
            robust = Inference.Interval(estimate, Math.Sqrt(Variance(clustered * clusters / (clusters - 1.0))), clusters - 1, clusters);
        }
        var (kind, headline) = robust.StandardError is null ? (InferenceKind.Classical, classical) : (InferenceKind.ClusterRobust, robust);
        return n < k ? AdjustedEstimate.Withheld
            : new(estimate, headline.StandardError, headline.Lower, headline.Upper, n, p, false, kind, classical, robust);
    }

    private static WeightSummary Summary(IReadOnlyList<Group> groups, bool early, double pEarly)
    {
        double n = 0, sum = 0, squares = 0;
        foreach (var g in groups)
        {
            var (count, weight) = early ? (g.Early.N, pEarly / g.E) : (g.Chronic.N, (1 - pEarly) / (1 - g.E));
            n += count;
            sum += count * weight;
            squares += count * weight * weight;
        }
        return new WeightSummary(sum / n, sum * sum / squares);
    }

    private static IReadOnlyList<BalanceRow> Balance(IReadOnlyList<Group> groups, int k)
    {
        var rows = new List<BalanceRow>();
        void Levels<T>(string covariate, Func<long, T> of) where T : struct, Enum
        {
            foreach (var level in Enum.GetValues<T>())
                rows.AddRange(Row(groups, k, covariate, ProtocolJson.WireName(level), g => EqualityComparer<T>.Default.Equals(of(g.Pattern), level) ? 1 : 0, binary: true));
        }
        Levels("region", PackedKey.Region);
        Levels("ageBand", PackedKey.AgeBand);
        Levels("sex", PackedKey.Sex);
        Levels("occupation", PackedKey.Occupation);
        rows.AddRange(Row(groups, k, "baselineNprs", null, g => g.Baseline, binary: false));
        return rows;
    }

    private static IEnumerable<BalanceRow> Row(IReadOnlyList<Group> groups, int k, string covariate, string? level, Func<Group, double> z, bool binary)
    {
        // Per cohort (early, chronic): episodes, Σz, Σz², and the weighted Σw, Σwz.
        var s = new double[2, 5];
        foreach (var g in groups)
        {
            var v = z(g);
            foreach (var (c, tally, w) in new[] { (0, g.Early, 1 / g.E), (1, g.Chronic, 1 / (1 - g.E)) })
            {
                s[c, 0] += tally.N; s[c, 1] += tally.N * v; s[c, 2] += tally.N * v * v;
                s[c, 3] += tally.N * w; s[c, 4] += tally.N * w * v;
            }
        }
        if (binary && s[0, 1] == 0 && s[1, 1] == 0) yield break;
        bool Thin(double count) => count > 0 && count < k;
        if (binary && (Thin(s[0, 1]) || Thin(s[1, 1])))
        {
            yield return new BalanceRow(covariate, level, null, null, true);
            yield break;
        }
        double Mean(int c) => s[c, 1] / s[c, 0];
        double Variance(int c) => s[c, 2] / s[c, 0] - Mean(c) * Mean(c);
        var pooled = Math.Sqrt((Variance(0) + Variance(1)) / 2);
        double? Smd(double difference) => pooled > 0 ? difference / pooled : null;
        yield return new BalanceRow(covariate, level, Smd(Mean(0) - Mean(1)), Smd(s[0, 4] / s[0, 3] - s[1, 4] / s[1, 3]), false);
    }

    private static double Expit(double eta) => 1 / (1 + Math.Exp(-eta));

    private static double Dot(double[] row, Vector<double> beta)
    {
        var total = 0.0;
        for (var i = 0; i < row.Length; i++) total += row[i] * beta[i];
        return total;
    }
}

using MathNet.Numerics.LinearAlgebra;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;

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
public sealed record WeightedComparison(bool Suppressed, long? N, bool Converged, int? Parameters,
    AdjustedEstimate DurableChange, AdjustedEstimate Responders, WeightSummary Early, WeightSummary Chronic,
    IReadOnlyList<BalanceRow> Balance)
{
    public static readonly WeightedComparison Withheld = new(true, null, false, null, AdjustedEstimate.Withheld, AdjustedEstimate.Withheld,
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
/// A level that is all early or all chronic gets no dummy in the propensity model (its coefficient
/// would have no finite estimate); the balance table then shows that level unbalanced.</summary>
public static class Weighting
{
    private const int MaxIterations = 100;
    private const double Converged = 1e-10;

    /// <summary>Episodes of one group and cohort: count and outcome sums (integers).</summary>
    private sealed class Tally
    {
        public long N, Y, YY, R;
    }

    /// <summary>Episodes of one covariate pattern and baseline, pooled over clinics, early and chronic
    /// apart; then the propensity model's row and fitted score.</summary>
    private sealed class Group(long pattern, int baseline)
    {
        public long Pattern { get; } = pattern;
        public int Baseline { get; } = baseline;
        public Tally Early { get; } = new();
        public Tally Chronic { get; } = new();
        public double[] Row { get; set; } = [];
        public double E { get; set; }
    }

    /// <summary>One clinic's sums for its estimating functions: Σ(t − e)x, and per cohort the
    /// inverse-propensity sums of n, y (change) and r (responder); Σψ for either outcome follows.</summary>
    private sealed class ClinicScores(int p)
    {
        public double[] Score { get; } = new double[p];
        public double EarlyN, EarlyY, EarlyR, ChronicN, ChronicY, ChronicR;
    }

    /// <param name="balanceShown">Whether a covariate's balance rows may be shown: their SMDs, with the
    /// cohort sizes, could be solved back to each level's counts by cohort, so they are shown only
    /// where the release publishes counts at the study's grid with that covariate added.</param>
    public static WeightedComparison Compare(CubeSnapshot snapshot, CellFilter filter, StudyQuery query, int k, bool suppressed,
        Func<Dimension, bool> balanceShown)
    {
        if (suppressed) return WeightedComparison.Withheld;
        var groupCount = GroupIndex(PatternMask, 10) + 1;
        var entries = Entries(snapshot, filter, query, groupCount);
        var groups = Groups(entries, groupCount);
        var pooled = groups.OfType<Group>().ToList();
        long n1 = pooled.Sum(g => g.Early.N), n0 = pooled.Sum(g => g.Chronic.N);
        if (n1 < k || n0 < k) return WeightedComparison.Withheld;

        var columns = Columns(pooled);
        foreach (var g in pooled) g.Row = RowOf(g, columns);
        var pEarly = (double)n1 / (n1 + n0);
        var beta = Fit(pooled, columns.Length, pEarly);
        if (beta is null)
            return WeightedComparison.Withheld with { Suppressed = false, N = n1 + n0, Parameters = columns.Length };
        foreach (var g in pooled) g.E = Expit(Dot(g.Row, beta));
        var clinics = Clinics(entries, groups, columns.Length);

        return new WeightedComparison(false, n1 + n0, true, columns.Length,
            Estimate(pooled, clinics, columns.Length, k, t => t.Y, t => t.YY, c => (c.EarlyY, c.ChronicY)),
            Estimate(pooled, clinics, columns.Length, k, t => t.R, t => t.R, c => (c.EarlyR, c.ChronicR)),
            Summary(pooled, early: true, pEarly), Summary(pooled, early: false, pEarly),
            Balance(pooled, k, balanceShown));
    }

    /// <summary>Region, occupation, age band and sex: the covariates constant within a cell. Their
    /// bits, read as a number, index the (pattern, baseline) groups densely.</summary>
    private static readonly long PatternMask = PackedKey.Mask(Dimension.Region | Dimension.Occupation | Dimension.AgeBand | Dimension.Sex);

    private static int GroupIndex(long key, int baseline) => (int)(key & PatternMask) * 11 + baseline;

    /// <summary>One (baseline, latest NPRS) pair count of one cell: episodes with a durable change,
    /// placed by clinic (ranked by id) and group.</summary>
    private readonly record struct Entry(long At, bool Early, long Count, int Change, bool Responder);

    /// <summary>The study's scored episodes, one entry per pair count of each matching cell, sorted by
    /// (clinic id, group); entries with equal places keep no particular order, so only integer sums
    /// are taken over them.</summary>
    private static Entry[] Entries(CubeSnapshot snapshot, CellFilter filter, StudyQuery query, int groupCount)
    {
        var rule = query.NprsRule;
        var byId = Enumerable.Range(0, snapshot.Clinics.Count).OrderBy(i => snapshot.Clinics[i], StringComparer.Ordinal).ToArray();
        var rank = new int[byId.Length];
        for (var r = 0; r < byId.Length; r++) rank[byId[r]] = r;
        var entries = new List<Entry>();
        var table = snapshot.Flat(snapshot.TableFor(filter.Restricted | Dimension.Covariates | Dimension.Clinic));
        for (var i = 0; i < table.Count; i++)
        {
            var key = table.Keys[i];
            if (table.Episodes[i] == 0 || !filter.Matches(key)) continue;
            var early = query.IsEarly(PackedKey.Duration(key));
            var clinic = (long)rank[PackedKey.Clinic(key)] * groupCount;
            for (var p = table.PairStart[i]; p < table.PairStart[i + 1]; p++)
            {
                int b = table.PairBaseline[p], score = table.PairScore[p];
                entries.Add(new Entry(clinic + GroupIndex(key, b), early, table.PairCount[p], b - score, rule.Improved(b, score)));
            }
        }
        var sorted = entries.ToArray();
        Array.Sort(sorted, (a, b) => a.At.CompareTo(b.At));
        return sorted;
    }

    /// <summary>The entries in (covariate pattern, baseline) groups, pooled over clinics, by group
    /// index (a fixed order, so every later sum of doubles is the same live and replayed); null where empty.</summary>
    private static Group?[] Groups(Entry[] entries, int groupCount)
    {
        var groups = new Group?[groupCount];
        foreach (var entry in entries)
        {
            var at = (int)(entry.At % groupCount);
            var group = groups[at] ??= new Group(at / 11, at % 11);
            var tally = entry.Early ? group.Early : group.Chronic;
            tally.N += entry.Count;
            tally.Y += entry.Count * entry.Change;
            tally.YY += entry.Count * entry.Change * entry.Change;
            tally.R += entry.Responder ? entry.Count : 0;
        }
        return groups;
    }

    /// <summary>Each clinic's score sums, in clinic id order. Entries of one (clinic, group) are added
    /// up as integers first (their order among themselves follows the cells'), then enter the double
    /// sums group by group in index order: O(p) per (clinic, group), the same live and replayed.</summary>
    private static IReadOnlyList<ClinicScores> Clinics(Entry[] entries, Group?[] groups, int p)
    {
        var clinics = new List<ClinicScores>();
        var clinic = -1L;
        for (var from = 0; from < entries.Length;)
        {
            var at = entries[from].At;
            var (early, chronic) = (new Tally(), new Tally());
            for (; from < entries.Length && entries[from].At == at; from++)
            {
                var entry = entries[from];
                var tally = entry.Early ? early : chronic;
                tally.N += entry.Count;
                tally.Y += entry.Count * entry.Change;
                tally.R += entry.Responder ? entry.Count : 0;
            }
            if (at / groups.Length != clinic)
            {
                clinic = at / groups.Length;
                clinics.Add(new ClinicScores(p));
            }
            var (sums, g) = (clinics[^1], groups[at % groups.Length]!);
            var residual = early.N * (1 - g.E) - chronic.N * g.E;
            for (var i = 0; i < p; i++) sums.Score[i] += residual * g.Row[i];
            sums.EarlyN += early.N / g.E; sums.EarlyY += early.Y / g.E; sums.EarlyR += early.R / g.E;
            sums.ChronicN += chronic.N / (1 - g.E); sums.ChronicY += chronic.Y / (1 - g.E); sums.ChronicR += chronic.R / (1 - g.E);
        }
        return clinics;
    }

    /// <summary>A column of the propensity model: the intercept, one level of a covariate, or baseline NPRS.</summary>
    private readonly record struct Column(Func<long, int>? Covariate, int Level, bool Baseline)
    {
        public double Of(Group g) => Baseline ? g.Baseline : Covariate is null ? 1 : Covariate(g.Pattern) == Level ? 1 : 0;
    }

    private static readonly Func<long, int>[] Covariates =
    [
        key => (int)PackedKey.Region(key), key => (int)PackedKey.AgeBand(key), key => (int)PackedKey.Sex(key), key => (int)PackedKey.Occupation(key),
    ];

    /// <summary>The propensity model's columns: the intercept; per covariate, a dummy for each level
    /// that holds both early and chronic episodes but the first such level (the reference); baseline
    /// NPRS. A level entirely in one cohort would have no finite coefficient: it gets no dummy, so it
    /// counts with the reference (even when it is the covariate's first level). Then only columns
    /// independent of the ones before them (a filter to one level leaves none for that covariate).</summary>
    private static Column[] Columns(IReadOnlyList<Group> groups)
    {
        var candidates = new List<Column> { new(null, 0, false) };
        foreach (var covariate in Covariates)
        {
            var both = groups.GroupBy(g => covariate(g.Pattern))
                .Where(level => level.Sum(g => g.Early.N) > 0 && level.Sum(g => g.Chronic.N) > 0)
                .Select(level => level.Key).Order().ToList();
            candidates.AddRange(both.Skip(1).Select(level => new Column(covariate, level, false)));
        }
        candidates.Add(new Column(null, 0, true));

        var w = candidates.Count;
        var gram = Matrix<double>.Build.Dense(w, w);
        foreach (var g in groups)
        {
            var x = candidates.Select(c => c.Of(g)).ToArray();
            var n = g.Early.N + g.Chronic.N;
            for (var a = 0; a < w; a++)
                for (var b = 0; b < w; b++)
                    gram[a, b] += n * x[a] * x[b];
        }
        return [.. AdjustedModel.IndependentColumns(gram, Enumerable.Range(0, w)).Select(c => candidates[c])];
    }

    private static double[] RowOf(Group g, Column[] columns) => [.. columns.Select(c => c.Of(g))];

    /// <summary>Logistic regression by iteratively reweighted least squares (Newton's method for the
    /// canonical link) on grouped binomial data; null if it does not converge.</summary>
    private static Vector<double>? Fit(IReadOnlyList<Group> groups, int p, double pEarly)
    {
        var beta = Vector<double>.Build.Dense(p);
        beta[0] = Math.Log(pEarly / (1 - pEarly));
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            var information = new double[p * p];
            var score = new double[p];
            foreach (var g in groups)
            {
                var n = g.Early.N + g.Chronic.N;
                var e = Expit(Dot(g.Row, beta));
                AddOuter(information, g.Row, g.Row, n * e * (1 - e));
                for (var i = 0; i < p; i++) score[i] += (g.Early.N - n * e) * g.Row[i];
            }
            Vector<double> step;
            try { step = Square(information, p).Cholesky().Solve(Vector<double>.Build.Dense(score)); }
            catch (ArgumentException) { return null; }
            beta += step;
            if (step.AbsoluteMaximum() < Converged) return beta;
        }
        return null;
    }

    /// <summary>The weighted difference of means of one outcome with its two sandwich intervals.
    /// θ = (γ, μ1, μ0); per episode ψ = (x(t − e), t(y − μ1)/e, (1 − t)(y − μ0)/(1 − e)). The bread
    /// and the independent meat are sums over episodes, taken over the pooled groups; the clustered
    /// meat needs each clinic's Σψ, from its score sums.</summary>
    private static AdjustedEstimate Estimate(IReadOnlyList<Group> pooled, IReadOnlyList<ClinicScores> clinics, int p, int k,
        Func<Tally, long> sum, Func<Tally, long> sumOfSquares, Func<ClinicScores, (double Early, double Chronic)> outcome)
    {
        double w1 = 0, wy1 = 0, w0 = 0, wy0 = 0;
        foreach (var g in pooled)
        {
            w1 += g.Early.N / g.E;
            wy1 += sum(g.Early) / g.E;
            w0 += g.Chronic.N / (1 - g.E);
            wy0 += sum(g.Chronic) / (1 - g.E);
        }
        double mu1 = wy1 / w1, mu0 = wy0 / w0;
        var d = p + 2;
        int m1 = p, m0 = p + 1;

        var bread = new double[d * d];
        var meat = new double[d * d];
        foreach (var g in pooled)
        {
            var (e, x) = (g.E, g.Row);
            double n1 = g.Early.N, n0 = g.Chronic.N;
            // Sums over the group's episodes of y − μ and (y − μ)², from Σy and Σy².
            double r1 = sum(g.Early) - n1 * mu1, r0 = sum(g.Chronic) - n0 * mu0;
            double ss1 = sumOfSquares(g.Early) - 2 * mu1 * sum(g.Early) + n1 * mu1 * mu1;
            double ss0 = sumOfSquares(g.Chronic) - 2 * mu0 * sum(g.Chronic) + n0 * mu0 * mu0;

            // Bread: minus the derivative of Σψ with respect to θ. Meat: Σψψ', episodes independent.
            AddOuter(bread, x, x, (n1 + n0) * e * (1 - e), d);
            AddOuter(meat, x, x, n1 * (1 - e) * (1 - e) + n0 * e * e, d);
            for (var i = 0; i < p; i++)
            {
                double early = (1 - e) / e * r1 * x[i], chronic = e / (1 - e) * r0 * x[i];
                bread[m1 * d + i] += early;
                bread[m0 * d + i] -= chronic;
                meat[i * d + m1] += early; meat[m1 * d + i] += early;
                meat[i * d + m0] -= chronic; meat[m0 * d + i] -= chronic;
            }
            bread[m1 * d + m1] += n1 / e;
            bread[m0 * d + m0] += n0 / (1 - e);
            meat[m1 * d + m1] += ss1 / (e * e);
            meat[m0 * d + m0] += ss0 / ((1 - e) * (1 - e));
        }

        // Each clinic's Σψ: the propensity score's, and Σ(y − μ)/e = Σy/e − μ Σ1/e per cohort.
        var perClinic = clinics.Select(c =>
        {
            var (early, chronic) = outcome(c);
            var u = new double[d];
            Array.Copy(c.Score, u, p);
            u[m1] = early - mu1 * c.EarlyN;
            u[m0] = chronic - mu0 * c.ChronicN;
            return u;
        }).ToList();

        var n = pooled.Sum(g => g.Early.N + g.Chronic.N);
        var contrast = Vector<double>.Build.Dense(d);
        contrast[m1] = 1;
        contrast[m0] = -1;
        var breadInverse = Square(bread, d).Inverse();
        double Variance(double[] m) => contrast * (breadInverse * Square(m, d) * breadInverse.Transpose()) * contrast;

        var estimate = mu1 - mu0;
        var classical = Inference.Interval(estimate, Math.Sqrt(Variance(meat)), n - d, null);
        var clusters = perClinic.Count;
        var robust = new Inference(null, null, null, null, clusters, false);
        if (clusters >= 2)
        {
            var clustered = new double[d * d];
            foreach (var u in perClinic) AddOuter(clustered, u, u, clusters / (clusters - 1.0));
            robust = Inference.Interval(estimate, Math.Sqrt(Variance(clustered)), clusters - 1, clusters);
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

    private static IReadOnlyList<BalanceRow> Balance(IReadOnlyList<Group> groups, int k, Func<Dimension, bool> shown)
    {
        var rows = new List<BalanceRow>();
        void Levels<T>(string covariate, Dimension dimension, IEnumerable<T> levels, Func<long, T> of) where T : struct, Enum
        {
            foreach (var level in levels)
                rows.AddRange(shown(dimension)
                    ? Row(groups, k, covariate, ProtocolJson.WireName(level), g => EqualityComparer<T>.Default.Equals(of(g.Pattern), level) ? 1 : 0, binary: true)
                    // Every level, present or not: which levels the study holds is itself from the data.
                    : [new BalanceRow(covariate, ProtocolJson.WireName(level), null, null, true)]);
        }
        Levels("region", Dimension.Region, Enum.GetValues<ComplaintRegion>(), PackedKey.Region);
        Levels("ageBand", Dimension.AgeBand, Enum.GetValues<AgeBand>(), PackedKey.AgeBand);
        // Rare sexes as the disclosure rules pool them, so that no row stands for a rare category alone.
        Levels("sex", Dimension.Sex, Enum.GetValues<Sex>().Select(Pooling.GroupOf).Distinct(), key => Pooling.GroupOf(PackedKey.Sex(key)));
        Levels("occupation", Dimension.Occupation, Enum.GetValues<OccupationGroup>(), PackedKey.Occupation);
        rows.AddRange(Row(groups, k, "baselineNprs", null, g => g.Baseline, binary: false));
        return rows;
    }

    private static IEnumerable<BalanceRow> Row(IReadOnlyList<Group> groups, int k, string covariate, string? level, Func<Group, double> z, bool binary)
    {
        // Per cohort (0 early, 1 chronic): episodes, Σz, Σz², and the weighted Σw, Σwz (w = 1/e or
        // 1/(1 − e): the stabilising constant cancels in a weighted mean).
        var s = new double[2, 5];
        foreach (var g in groups)
        {
            var v = z(g);
            Add(0, g.Early.N, 1 / g.E);
            Add(1, g.Chronic.N, 1 / (1 - g.E));

            void Add(int c, long n, double w)
            {
                s[c, 0] += n; s[c, 1] += n * v; s[c, 2] += n * v * v;
                s[c, 3] += n * w; s[c, 4] += n * w * v;
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

    /// <summary>m += scale · a b' (row-major, <paramref name="stride"/> columns; a and b may be shorter).</summary>
    private static void AddOuter(double[] m, double[] a, double[] b, double scale, int? stride = null)
    {
        var width = stride ?? b.Length;
        for (var i = 0; i < a.Length; i++)
        {
            var ai = scale * a[i];
            for (var j = 0; j < b.Length; j++) m[i * width + j] += ai * b[j];
        }
    }

    private static Matrix<double> Square(double[] rowMajor, int size) => Matrix<double>.Build.Dense(size, size, (i, j) => rowMajor[i * size + j]);

    private static double Expit(double eta) => 1 / (1 + Math.Exp(-eta));

    private static double Dot(double[] row, Vector<double> beta)
    {
        var total = 0.0;
        for (var i = 0; i < row.Length; i++) total += row[i] * beta[i];
        return total;
    }
}

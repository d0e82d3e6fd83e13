using System.Buffers;
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

    /// <summary>Episodes of one group and cohort: count and change sums (integers). Responders are
    /// counted apart (<see cref="Responders"/>): the one part of a study that its MCIDs change.</summary>
    private struct Tally
    {
        public long N, Y, YY;
    }

    /// <summary>Episodes of one covariate pattern and baseline, pooled over clinics, early and chronic
    /// apart; then the propensity model's row and fitted score. A study has thousands of groups, so a
    /// group is kept small: its tallies inline, and only the nonzero entries of its design row (a
    /// few, of some twenty columns).</summary>
    private sealed class Group(long pattern, int baseline)
    {
        public long Pattern { get; } = pattern;
        public int Baseline { get; } = baseline;
        public Tally Early;
        public Tally Chronic;
        /// <summary>The group's place among the study's groups in index order.</summary>
        public int Id { get; set; }
        /// <summary>The columns where the group's design row is not 0 (the intercept, at most one dummy
        /// per covariate, baseline), ascending, and the row's values there: sums over them equal the
        /// dense sums bit for bit, since adding a zero term changes no double.</summary>
        public int[] Nonzero { get; private set; } = [];
        public double[] Values { get; private set; } = [];
        public double E { get; set; }

        public void SetRow(Column[] columns)
        {
            Span<double> row = stackalloc double[columns.Length];
            var count = 0;
            for (var i = 0; i < columns.Length; i++)
                if ((row[i] = columns[i].Of(this)) != 0) count++;
            (Nonzero, Values) = (new int[count], new double[count]);
            for (int i = 0, t = 0; i < columns.Length; i++)
                if (row[i] != 0) (Nonzero[t], Values[t++]) = (i, row[i]);
        }

        /// <summary>Takes a row made for this same group (pattern and baseline) under these columns.</summary>
        public void UseRow((int[] Nonzero, double[] Values) row) => (Nonzero, Values) = row;
    }

    /// <summary>One clinic's sums for its estimating functions: Σ(t − e)x, and per cohort the
    /// inverse-propensity sums of n, y (change) and r (responder); Σψ for either outcome follows.</summary>
    private sealed class ClinicScores(double[] score)
    {
        public ClinicScores(int p) : this(new double[p])
        {
        }

        public double[] Score { get; } = score;
        public double EarlyN, EarlyY, EarlyR, ChronicN, ChronicY, ChronicR;

        /// <summary>These sums without the responders' (the score array shared: nothing writes it once made).</summary>
        public ClinicScores WithoutResponders() => new(Score) { EarlyN = EarlyN, EarlyY = EarlyY, ChronicN = ChronicN, ChronicY = ChronicY };
    }

    /// <summary>A study's responders by the study's rule: per pooled group (by id) and cohort, and each
    /// clinic's sums with their inverse-propensity responder sums.</summary>
    private sealed record Responders(long[] Early, long[] Chronic, IReadOnlyList<ClinicScores> Clinics);

    /// <param name="balanceShown">Whether a covariate's balance rows may be shown: their SMDs, with the
    /// cohort sizes, could be solved back to each level's counts by cohort, so they are shown only
    /// where the release publishes counts at the study's grid with that covariate added.</param>
    public static WeightedComparison Compare(CubeSnapshot snapshot, CellFilter filter, StudyQuery query, int k,
        Func<Dimension, bool> balanceShown)
    {
        var responders = query.NprsRule.Table();
        Func<string, Func<PropensityFit>, PropensityFit> remember = (key, fit) => snapshot.Design(key, _ => fit());
        // A design asked for again (studies that differ only in their MCIDs) is kept whole, with the
        // pairs any rule's responders are counted from. The study that makes it counts its own in the
        // same pass (so it costs about what a study that keeps nothing does); later ones count theirs
        // from the kept pairs.
        Responders? counted = null;
        var kept = snapshot.Repeated($"iptw-design:{filter.Key}:{query.ChronicFromWeeks}", s =>
        {
            var (design, own) = StudyDesign.Of(new Scan(s, filter, query), responders, keepPairs: true, 1, remember);
            counted = own;
            return design;
        });
        if (kept is not null) return kept.Compare(counted ?? kept.Count(responders), k, balanceShown);
        var (fresh, responded) = StudyDesign.Of(new Scan(snapshot, filter, query), responders, keepPairs: false, k, remember);
        return fresh.Compare(responded, k, balanceShown);
    }

    /// <summary>The propensity model of a study's design: its columns and coefficients. A function of
    /// the groups' patterns, baselines and cohort sizes alone (not of any outcome or MCID), which it
    /// keeps to prove a match: studies of one design (a sensitivity analysis over MCIDs) fit it once,
    /// and a remembered one is used only when they are equal, so it is exactly what would be fitted
    /// again. The groups' rows (their nonzero entries, in the design's group order) are shared
    /// read-only with it.</summary>
    private sealed record PropensityFit(long[] Design, Column[] Columns, Vector<double>? Beta, (int[] Nonzero, double[] Values)[] Rows)
    {
        public static long[] DesignOf(IReadOnlyList<Group> pooled)
        {
            var design = new long[pooled.Count * 3];
            for (var i = 0; i < pooled.Count; i++)
                (design[3 * i], design[3 * i + 1], design[3 * i + 2]) = (pooled[i].Pattern * 11 + pooled[i].Baseline, pooled[i].Early.N, pooled[i].Chronic.N);
            return design;
        }

        public static string Key(long[] design)
        {
            var hash = new System.IO.Hashing.XxHash128();
            hash.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(design.AsSpan()));
            return $"iptw:{design.Length}:{Convert.ToHexString(hash.GetCurrentHash())}";
        }
    }

    /// <summary>What a study's weighting needs that no outcome definition changes: the pooled groups
    /// with their change sums, the propensity fit and each clinic's score and change sums; and, when
    /// kept, the scored pairs clinic by clinic, from which <see cref="Count"/> counts any rule's
    /// responders. Responder sums are added in the same order either way (per clinic, each group's
    /// integer count, in group id order), so a study's figures are the same, bit for bit, whether its
    /// design was kept or made for it.</summary>
    private sealed class StudyDesign
    {
        private IReadOnlyList<Group> _pooled = [];
        private long _n1, _n0;
        private Column[] _columns = [];
        private Vector<double>? _beta;
        private IReadOnlyList<ClinicScores> _clinics = [];
        /// <summary>Clinic c's scored pairs are <c>[_start[c] .. _start[c + 1]]</c>: group id × 256 +
        /// early × 128 + baseline × 11 + score, and each pair's episodes.</summary>
        private long[] _pairs = [];
        private int[] _pairCounts = [];
        private int[] _start = [0];

        /// <summary>The design, and the responders of <paramref name="responders"/>' rule counted in its
        /// pass (null when the study is withheld or has no fit).</summary>
        /// <param name="keepPairs">Keep the scored pairs, so later studies of the design count theirs.</param>
        /// <param name="minimum">Below this many episodes in either cohort the study is withheld, so nothing is fitted.</param>
        public static (StudyDesign Design, Responders? Counted) Of(Scan scan, bool[] responders, bool keepPairs, int minimum,
            Func<string, Func<PropensityFit>, PropensityFit> remember)
        {
            var groupCount = GroupIndex(PatternMask, 10) + 1;
            // The group index is scratch of a size that lands on the large-object heap; rented, so a
            // stream of studies does not grow it between full collections.
            var groups = ArrayPool<Group?>.Shared.Rent(groupCount);
            try
            {
                Array.Clear(groups, 0, groupCount);
                return Of(scan, groups, groupCount, responders, keepPairs, Math.Max(minimum, 1), remember);
            }
            finally
            {
                ArrayPool<Group?>.Shared.Return(groups, clearArray: true);
            }
        }

        private static (StudyDesign, Responders?) Of(Scan scan, Group?[] groups, int groupCount, bool[] responders, bool keepPairs, int minimum,
            Func<string, Func<PropensityFit>, PropensityFit> remember)
        {
            var scored = Groups(scan, groups);
            var pooled = new List<Group>();
            for (var at = 0; at < groupCount; at++)
                if (groups[at] is { } g)
                {
                    g.Id = pooled.Count;
                    pooled.Add(g);
                }
            var study = new StudyDesign { _pooled = pooled, _n1 = pooled.Sum(g => g.Early.N), _n0 = pooled.Sum(g => g.Chronic.N) };
            if (study._n1 < minimum || study._n0 < minimum) return (study, null);

            var pEarly = (double)study._n1 / (study._n1 + study._n0);
            var design = PropensityFit.DesignOf(pooled);
            var rowsSet = false;
            PropensityFit Fitted()
            {
                var columns = Columns(pooled);
                foreach (var g in pooled) g.SetRow(columns);
                rowsSet = true;
                return new PropensityFit(design, columns, Fit(pooled, columns.Length, pEarly), [.. pooled.Select(g => (g.Nonzero, g.Values))]);
            }
            var fit = remember(PropensityFit.Key(design), Fitted) is { } known && known.Design.AsSpan().SequenceEqual(design) ? known : Fitted();
            (study._columns, study._beta) = (fit.Columns, fit.Beta);
            // A remembered fit was made on another study's groups: the same groups in the same order (the
            // design says so), whose rows this study's take.
            if (!rowsSet) for (var i = 0; i < pooled.Count; i++) pooled[i].UseRow(fit.Rows[i]);
            if (study._beta is null) return (study, null);
            foreach (var g in pooled) g.E = Expit(Dot(g, study._beta));
            return (study, study.ClinicPass(scan, groups, responders, keepPairs ? scored : -1));
        }

        public WeightedComparison Compare(Responders? responders, int k, Func<Dimension, bool> balanceShown)
        {
            if (_n1 < k || _n0 < k) return WeightedComparison.Withheld;
            var p = _columns.Length;
            if (_beta is null || responders is null)
                return WeightedComparison.Withheld with { Suppressed = false, N = _n1 + _n0, Parameters = p };
            var pEarly = (double)_n1 / (_n1 + _n0);
            return new WeightedComparison(false, _n1 + _n0, true, p,
                Estimate(_pooled, responders.Clinics, p, k, g => (g.Early.Y, g.Chronic.Y), g => (g.Early.YY, g.Chronic.YY), c => (c.EarlyY, c.ChronicY)),
                Estimate(_pooled, responders.Clinics, p, k, g => (responders.Early[g.Id], responders.Chronic[g.Id]),
                    g => (responders.Early[g.Id], responders.Chronic[g.Id]), c => (c.EarlyR, c.ChronicR)),
                Summary(_pooled, early: true, pEarly), Summary(_pooled, early: false, pEarly),
                Balance(_pooled, k, balanceShown));
        }

        /// <summary>Counts the kept pairs' responders by <paramref name="responders"/>, as the clinic pass
        /// does: per clinic, each group's integer counts, then the clinic's double sums group by group
        /// in id order (a bit set over the ids, read word by word).</summary>
        public Responders? Count(bool[] responders)
        {
            if (_beta is null) return null;
            var present = _pooled.Count;
            var (early, chronic) = (new long[present], new long[present]);
            var (earlyR, chronicR) = (new long[present], new long[present]);
            var touched = new ulong[(present + 63) / 64];
            var clinics = new ClinicScores[_clinics.Count];
            for (var c = 0; c < clinics.Length; c++)
            {
                var sums = clinics[c] = _clinics[c].WithoutResponders();
                for (var j = _start[c]; j < _start[c + 1]; j++)
                {
                    var pair = _pairs[j];
                    if (!responders[pair & 127]) continue;
                    var at = (int)(pair >> 8);
                    touched[at >> 6] |= 1UL << (at & 63);
                    if ((pair & 128) != 0) earlyR[at] += _pairCounts[j];
                    else chronicR[at] += _pairCounts[j];
                }
                for (var word = 0; word < touched.Length; word++)
                    for (var bits = touched[word]; bits != 0; bits &= bits - 1)
                    {
                        var at = word * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                        var e = _pooled[at].E;
                        sums.EarlyR += earlyR[at] / e;
                        sums.ChronicR += chronicR[at] / (1 - e);
                        early[at] += earlyR[at];
                        chronic[at] += chronicR[at];
                        earlyR[at] = chronicR[at] = 0;
                    }
                Array.Clear(touched);
            }
            return new Responders(early, chronic, clinics);
        }

        /// <summary>Each clinic's score sums, in clinic id order. A clinic's episodes of one group are added
        /// up as integers first, then enter the double sums group by group in index order: O(nonzero
        /// columns) per (clinic, group), the same live and replayed. The groups a clinic touched are
        /// marked in a bit set over the groups' ids, so reading the set word by word visits them in index
        /// order without sorting. Keeps the <paramref name="keep"/> scored pairs when that is not −1.</summary>
        private Responders ClinicPass(Scan scan, Group?[] groups, bool[] responders, int keep)
        {
            // Scratch by the groups' dense ids (their index order), reset after each clinic: one rented
            // array of six parts, each of a size that lands on the large-object heap at 1M events.
            var present = _pooled.Count;
            var rented = ArrayPool<long>.Shared.Rent(6 * present);
            // Each group index's dense id in a plain array: the pass reads one per pair, and reading it
            // off the group object was a pointer chase per pair over thousands of objects.
            var ids = ArrayPool<int>.Shared.Rent(groups.Length);
            try
            {
                Array.Clear(rented, 0, 6 * present);
                for (var at = 0; at < groups.Length; at++) ids[at] = groups[at]?.Id ?? -1;
                return ClinicPass(scan, ids, responders, keep, new Span<long>(rented, 0, 6 * present));
            }
            finally
            {
                ArrayPool<long>.Shared.Return(rented);
                ArrayPool<int>.Shared.Return(ids);
            }
        }

        private Responders ClinicPass(Scan scan, int[] ids, bool[] responders, int keep, Span<long> scratch)
        {
            var (table, order, pooled, p) = (scan.Table, scan.Order, _pooled, _columns.Length);
            var present = pooled.Count;
            Span<long> earlyN = scratch[..present], earlyY = scratch.Slice(present, present), earlyR = scratch.Slice(2 * present, present);
            Span<long> chronicN = scratch.Slice(3 * present, present), chronicY = scratch.Slice(4 * present, present), chronicR = scratch.Slice(5 * present, present);
            var touched = new ulong[(present + 63) / 64];
            var clinics = new List<ClinicScores>();
            var (pooledEarly, pooledChronic) = (new long[present], new long[present]);
            var (pairs, counts, kept) = keep < 0 ? ([], [], 0) : (new long[keep], new int[keep], 0);
            var start = new List<int> { 0 };
            for (var clinic = 0; clinic + 1 < order.Start.Length; clinic++)
            {
                var any = false;
                for (var c = order.Start[clinic]; c < order.Start[clinic + 1]; c++)
                {
                    var i = order.Cells[c];
                    if (!scan.Scored(i, out var early)) continue;
                    var key = table.Keys[i];
                    for (var q = table.PairStart[i]; q < table.PairStart[i + 1]; q++)
                    {
                        int b = table.PairBaseline[q], score = table.PairScore[q];
                        long count = table.PairCount[q], change = b - score;
                        var at = ids[GroupIndex(key, b)];
                        touched[at >> 6] |= 1UL << (at & 63);
                        any = true;
                        if (keep >= 0)
                        {
                            pairs[kept] = (long)at << 8 | (early ? 128L : 0) | (long)(b * 11 + score);
                            counts[kept++] = (int)count;
                        }
                        var responded = responders[b * 11 + score] ? count : 0;
                        if (early) { earlyN[at] += count; earlyY[at] += count * change; earlyR[at] += responded; }
                        else { chronicN[at] += count; chronicY[at] += count * change; chronicR[at] += responded; }
                    }
                }
                if (!any) continue;
                var sums = new ClinicScores(p);
                clinics.Add(sums);
                if (keep >= 0) start.Add(kept);
                for (var word = 0; word < touched.Length; word++)
                    for (var bits = touched[word]; bits != 0; bits &= bits - 1)
                    {
                        var at = word * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                        var g = pooled[at];
                        var residual = earlyN[at] * (1 - g.E) - chronicN[at] * g.E;
                        for (var t = 0; t < g.Nonzero.Length; t++) sums.Score[g.Nonzero[t]] += residual * g.Values[t];
                        sums.EarlyN += earlyN[at] / g.E; sums.EarlyY += earlyY[at] / g.E; sums.EarlyR += earlyR[at] / g.E;
                        sums.ChronicN += chronicN[at] / (1 - g.E); sums.ChronicY += chronicY[at] / (1 - g.E); sums.ChronicR += chronicR[at] / (1 - g.E);
                        pooledEarly[at] += earlyR[at];
                        pooledChronic[at] += chronicR[at];
                        earlyN[at] = earlyY[at] = earlyR[at] = chronicN[at] = chronicY[at] = chronicR[at] = 0;
                    }
                Array.Clear(touched);
            }
            if (keep >= 0)
            {
                // The design keeps each clinic's sums without this study's responders.
                _clinics = [.. clinics.Select(c => c.WithoutResponders())];
                (_pairs, _pairCounts, _start) = (pairs, counts, [.. start]);
            }
            else _clinics = clinics;
            return new Responders(pooledEarly, pooledChronic, clinics);
        }
    }

    /// <summary>Region, occupation, age band and sex: the covariates constant within a cell. Their
    /// bits, read as a number, index the (pattern, baseline) groups densely.</summary>
    private static readonly long PatternMask = PackedKey.Mask(Dimension.Region | Dimension.Occupation | Dimension.AgeBand | Dimension.Sex);

    private static int GroupIndex(long key, int baseline) => (int)(key & PatternMask) * 11 + baseline;

    /// <summary>The study's scored episodes: the (baseline, latest NPRS) pair counts of the matching
    /// cells of the table that keeps clinic and every covariate, read in place (no copy of them is
    /// made: at 1M events that was a few megabytes per study).</summary>
    private readonly struct Scan
    {
        private readonly CellFilter _filter;
        private readonly StudyQuery _query;

        public Scan(CubeSnapshot snapshot, CellFilter filter, StudyQuery query)
        {
            var table = snapshot.TableFor(filter.Restricted | Dimension.Covariates | Dimension.Clinic);
            (Table, Order, _filter, _query) = (snapshot.Flat(table), ClinicOrder.Of(snapshot, table), filter, query);
        }

        public FlatTable Table { get; }
        public ClinicOrder Order { get; }

        public bool Scored(int cell, out bool early)
        {
            var key = Table.Keys[cell];
            early = _query.IsEarly(PackedKey.Duration(key));
            return Table.Episodes[cell] != 0 && _filter.Matches(key);
        }
    }

    /// <summary>A table's cells by clinic in clinic id order (a counting sort by rank), so a study
    /// takes each clinic's sums in a fixed order, the same live and replayed (within a clinic the cells
    /// keep the table's order, which differs, so only integer sums are taken over them). Built once
    /// per table of a snapshot.</summary>
    private sealed record ClinicOrder(int[] Cells, int[] Start)
    {
        public static ClinicOrder Of(CubeSnapshot snapshot, CubeTable table) => snapshot.Memo($"clinic-order:{table.Kept}", s =>
        {
            var flat = s.Flat(table);
            var byId = Enumerable.Range(0, s.Clinics.Count).OrderBy(i => s.Clinics[i], StringComparer.Ordinal).ToArray();
            var rank = new int[byId.Length];
            for (var r = 0; r < byId.Length; r++) rank[byId[r]] = r;
            var start = new int[byId.Length + 1];
            for (var i = 0; i < flat.Count; i++) start[rank[PackedKey.Clinic(flat.Keys[i])] + 1]++;
            for (var r = 1; r < start.Length; r++) start[r] += start[r - 1];
            var next = start[..^1];
            var cells = new int[flat.Count];
            for (var i = 0; i < flat.Count; i++) cells[next[rank[PackedKey.Clinic(flat.Keys[i])]]++] = i;
            return new ClinicOrder(cells, start);
        });
    }

    /// <summary>The scored episodes in (covariate pattern, baseline) groups, pooled over clinics, by
    /// group index (a fixed order, so every later sum of doubles is the same live and replayed); null
    /// where empty. Returns how many (cell, pair) entries it scored.</summary>
    private static int Groups(Scan scan, Group?[] groups)
    {
        var table = scan.Table;
        var scored = 0;
        for (var i = 0; i < table.Count; i++)
        {
            if (!scan.Scored(i, out var early)) continue;
            var key = table.Keys[i];
            scored += table.PairStart[i + 1] - table.PairStart[i];
            for (var p = table.PairStart[i]; p < table.PairStart[i + 1]; p++)
            {
                int b = table.PairBaseline[p], score = table.PairScore[p];
                long count = table.PairCount[p], change = b - score;
                var at = GroupIndex(key, b);
                var group = groups[at] ??= new Group(at / 11, at % 11);
                ref var tally = ref early ? ref group.Early : ref group.Chronic;
                tally.N += count;
                tally.Y += count * change;
                tally.YY += count * change * change;
            }
        }
        return scored;
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
        var gram = new double[w * w];
        var x = new double[w];
        var nonzero = new List<int>(w);
        foreach (var g in groups)
        {
            nonzero.Clear();
            for (var a = 0; a < w; a++)
                if ((x[a] = candidates[a].Of(g)) != 0) nonzero.Add(a);
            var n = g.Early.N + g.Chronic.N;
            foreach (var a in nonzero)
                foreach (var b in nonzero)
                    gram[a * w + b] += n * x[a] * x[b];
        }
        return [.. AdjustedModel.IndependentColumns(Square(gram, w), Enumerable.Range(0, w)).Select(c => candidates[c])];
    }

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
                var e = Expit(Dot(g, beta));
                AddOuter(information, g, n * e * (1 - e), p);
                for (var t = 0; t < g.Nonzero.Length; t++) score[g.Nonzero[t]] += (g.Early.N - n * e) * g.Values[t];
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
        Func<Group, (long Early, long Chronic)> sum, Func<Group, (long Early, long Chronic)> sumOfSquares,
        Func<ClinicScores, (double Early, double Chronic)> outcome)
    {
        double w1 = 0, wy1 = 0, w0 = 0, wy0 = 0;
        foreach (var g in pooled)
        {
            w1 += g.Early.N / g.E;
            var (sum1, sum0) = sum(g);
            wy1 += sum1 / g.E;
            w0 += g.Chronic.N / (1 - g.E);
            wy0 += sum0 / (1 - g.E);
        }
        double mu1 = wy1 / w1, mu0 = wy0 / w0;
        var d = p + 2;
        int m1 = p, m0 = p + 1;

        var bread = new double[d * d];
        var meat = new double[d * d];
        foreach (var g in pooled)
        {
            var e = g.E;
            double n1 = g.Early.N, n0 = g.Chronic.N;
            // Sums over the group's episodes of y − μ and (y − μ)², from Σy and Σy².
            var ((sum1, sum0), (squares1, squares0)) = (sum(g), sumOfSquares(g));
            double r1 = sum1 - n1 * mu1, r0 = sum0 - n0 * mu0;
            double ss1 = squares1 - 2 * mu1 * sum1 + n1 * mu1 * mu1;
            double ss0 = squares0 - 2 * mu0 * sum0 + n0 * mu0 * mu0;

            // Bread: minus the derivative of Σψ with respect to θ. Meat: Σψψ', episodes independent.
            AddOuter(bread, g, (n1 + n0) * e * (1 - e), d);
            AddOuter(meat, g, n1 * (1 - e) * (1 - e) + n0 * e * e, d);
            for (var t = 0; t < g.Nonzero.Length; t++)
            {
                var i = g.Nonzero[t];
                double early = (1 - e) / e * r1 * g.Values[t], chronic = e / (1 - e) * r0 * g.Values[t];
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
        // Every covariate's levels in one pass over the groups: per level and cohort (0 early,
        // 1 chronic) its episodes and Σw (w = 1/e or 1/(1 − e): the stabilising constant cancels in a
        // weighted mean); per cohort the totals. Terms enter each sum in group order, as they would in
        // a pass per level (that pass only adds zeros besides).
        var covariates = BalanceCovariates;
        var levels = covariates.Select(c => new double[c.Levels.Length, 2, 2]).ToArray();
        var totals = new double[2, 2];
        foreach (var g in groups)
        {
            var (earlyW, chronicW) = (1 / g.E, 1 / (1 - g.E));
            totals[0, 0] += g.Early.N; totals[0, 1] += g.Early.N * earlyW;
            totals[1, 0] += g.Chronic.N; totals[1, 1] += g.Chronic.N * chronicW;
            for (var c = 0; c < covariates.Length; c++)
            {
                var level = covariates[c].LevelOf(g.Pattern);
                levels[c][level, 0, 0] += g.Early.N; levels[c][level, 0, 1] += g.Early.N * earlyW;
                levels[c][level, 1, 0] += g.Chronic.N; levels[c][level, 1, 1] += g.Chronic.N * chronicW;
            }
        }
        for (var c = 0; c < covariates.Length; c++)
        {
            var (name, dimension, names, _) = covariates[c];
            for (var level = 0; level < names.Length; level++)
            {
                if (!shown(dimension))
                {
                    // Every level, present or not: which levels the study holds is itself from the data.
                    rows.Add(new BalanceRow(name, names[level], null, null, true));
                    continue;
                }
                double Sum(int cohort, int what) => levels[c][level, cohort, what];
                if (Sum(0, 0) == 0 && Sum(1, 0) == 0) continue;
                bool Thin(double count) => count > 0 && count < k;
                if (Thin(Sum(0, 0)) || Thin(Sum(1, 0)))
                {
                    rows.Add(new BalanceRow(name, names[level], null, null, true));
                    continue;
                }
                // A 0/1 indicator: its sum and its sum of squares are both the level's episodes.
                rows.Add(SmdRow(name, names[level], cohort => (totals[cohort, 0], Sum(cohort, 0), Sum(cohort, 0), totals[cohort, 1], Sum(cohort, 1))));
            }
        }

        var baseline = new double[2, 5];
        foreach (var g in groups)
        {
            Add(0, g.Early.N, 1 / g.E);
            Add(1, g.Chronic.N, 1 / (1 - g.E));

            void Add(int c, long n, double w)
            {
                double v = g.Baseline;
                baseline[c, 0] += n; baseline[c, 1] += n * v; baseline[c, 2] += n * v * v;
                baseline[c, 3] += n * w; baseline[c, 4] += n * w * v;
            }
        }
        rows.Add(SmdRow("baselineNprs", null, cohort => (baseline[cohort, 0], baseline[cohort, 1], baseline[cohort, 2], baseline[cohort, 3], baseline[cohort, 4])));
        return rows;
    }

    /// <summary>A balance row from each cohort's episodes, Σz, Σz², Σw and Σwz.</summary>
    private static BalanceRow SmdRow(string covariate, string? level, Func<int, (double N, double Z, double ZZ, double W, double WZ)> sums)
    {
        var (early, chronic) = (sums(0), sums(1));
        static double Mean((double N, double Z, double ZZ, double W, double WZ) s) => s.Z / s.N;
        static double Variance((double N, double Z, double ZZ, double W, double WZ) s) => s.ZZ / s.N - Mean(s) * Mean(s);
        var pooled = Math.Sqrt((Variance(early) + Variance(chronic)) / 2);
        double? Smd(double difference) => pooled > 0 ? difference / pooled : null;
        return new BalanceRow(covariate, level, Smd(Mean(early) - Mean(chronic)), Smd(early.WZ / early.W - chronic.WZ / chronic.W), false);
    }

    /// <summary>The balance table's covariates, each level's wire name and a key's level index.
    /// Rare sexes as the disclosure rules pool them, so that no row stands for a rare category alone.</summary>
    private static readonly (string Name, Dimension Dimension, string[] Levels, Func<long, int> LevelOf)[] BalanceCovariates =
    [
        Covariate("region", Dimension.Region, Enum.GetValues<ComplaintRegion>(), PackedKey.Region),
        Covariate("ageBand", Dimension.AgeBand, Enum.GetValues<AgeBand>(), PackedKey.AgeBand),
        Covariate("sex", Dimension.Sex, [.. Enum.GetValues<Sex>().Select(Pooling.GroupOf).Distinct()], key => Pooling.GroupOf(PackedKey.Sex(key))),
        Covariate("occupation", Dimension.Occupation, Enum.GetValues<OccupationGroup>(), PackedKey.Occupation),
    ];

    private static (string, Dimension, string[], Func<long, int>) Covariate<T>(string name, Dimension dimension, T[] levels, Func<long, T> of)
        where T : struct, Enum =>
        (name, dimension, [.. levels.Select(l => ProtocolJson.WireName(l))], key => Array.IndexOf(levels, of(key)));

    /// <summary>m += scale · x x' for a group's row x, over its nonzero columns only (row-major,
    /// <paramref name="stride"/> columns).</summary>
    private static void AddOuter(double[] m, Group g, double scale, int stride)
    {
        var (x, nonzero) = (g.Values, g.Nonzero);
        for (var a = 0; a < nonzero.Length; a++)
        {
            var xi = scale * x[a];
            for (var b = 0; b < nonzero.Length; b++) m[nonzero[a] * stride + nonzero[b]] += xi * x[b];
        }
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

    private static double Dot(Group g, Vector<double> beta)
    {
        var total = 0.0;
        for (var t = 0; t < g.Nonzero.Length; t++) total += g.Values[t] * beta[g.Nonzero[t]];
        return total;
    }
}

using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>The sum of some cells' histograms, dense: still sufficient statistics, now for one group
/// of episodes. Time to the MCID is kept only for the study's own NPRS rule (read from the cells'
/// per-score first-reach histograms), so a query's Kaplan–Meier answers the rule it states.</summary>
public sealed class CohortSums
{
    public long Episodes;
    public FixedMoments Relief;
    public FixedMoments Odi;
    public readonly long[] Baseline = new long[11];
    public readonly long[] Latest = new long[121];
    public readonly long[] Discharge = new long[121];
    public readonly long[] FollowUp = new long[121];
    public readonly long[] FollowUpWeeks = new long[Slots.MaxFollowUpWeeks + 1];
    public readonly long[] NdiChange = new long[101];
    public readonly long[] OdiChangeFloor = new long[201];
    public long FollowedUp;
    public long Relapsed;
    public readonly long[] McidEvents = new long[Slots.MaxSessions + 1];
    public readonly long[] McidCensored = new long[Slots.MaxSessions + 1];

    /// <summary>Adds a cell. <paramref name="highestImproved"/>[b] is the highest NPRS that counts as
    /// improved from baseline b under the study's rule (−1: none).</summary>
    public void Add(CellStats stats, int[] highestImproved)
    {
        Episodes += stats.Episodes;
        Relief += stats.Relief;
        Odi += stats.Odi;
        AddSlots(stats.Slots, stats.Counts, highestImproved);
    }

    /// <summary>Adds cell <paramref name="cell"/> of a flat table.</summary>
    public void Add(FlatTable table, int cell, int[] highestImproved)
    {
        Episodes += table.Episodes[cell];
        Relief += table.Relief[cell];
        Odi += table.Odi[cell];
        var (from, to) = (table.SlotStart[cell], table.SlotStart[cell + 1]);
        AddSlots(table.Slots.AsSpan(from, to - from), table.Counts.AsSpan(from, to - from), highestImproved);
    }

    private void AddSlots(ReadOnlySpan<int> slots, ReadOnlySpan<int> counts, int[] highestImproved)
    {
        for (var i = 0; i < slots.Length; i++)
        {
            var slot = slots[i];
            long count = counts[i];
            if (slot < Slots.Latest) Baseline[slot - Slots.Baseline] += count;
            else if (slot < Slots.Discharge) Latest[slot - Slots.Latest] += count;
            else if (slot < Slots.FollowUp) Discharge[slot - Slots.Discharge] += count;
            else if (slot < Slots.FollowUpWeeks) FollowUp[slot - Slots.FollowUp] += count;
            else if (slot < Slots.NdiChange) FollowUpWeeks[slot - Slots.FollowUpWeeks] += count;
            else if (slot < Slots.OdiChangeFloor) NdiChange[slot - Slots.NdiChange] += count;
            else if (slot < Slots.FollowedUp) OdiChangeFloor[slot - Slots.OdiChangeFloor] += count;
            else if (slot == Slots.FollowedUp) FollowedUp += count;
            else if (slot == Slots.Relapsed) Relapsed += count;
            else if (slot < Slots.Reach)
            {
                if (slot < Slots.Sessions) continue;
                // No score counts as improved from this baseline: the episode can only be censored.
                var (b, sessions) = Slots.DecodeSessions(slot);
                if (highestImproved[b] < 0) McidCensored[sessions] += count;
            }
            else
            {
                var (b, v, censored, sessions) = Slots.DecodeReach(slot);
                if (v != highestImproved[b]) continue;
                if (censored) McidCensored[sessions] += count;
                else McidEvents[sessions] += count;
            }
        }
    }

    public void Add(CohortSums other)
    {
        Episodes += other.Episodes;
        Relief += other.Relief;
        Odi += other.Odi;
        FollowedUp += other.FollowedUp;
        Relapsed += other.Relapsed;
        foreach (var (into, from) in new[]
                 {
                     (Baseline, other.Baseline), (Latest, other.Latest), (Discharge, other.Discharge), (FollowUp, other.FollowUp),
                     (FollowUpWeeks, other.FollowUpWeeks), (NdiChange, other.NdiChange), (OdiChangeFloor, other.OdiChangeFloor),
                     (McidEvents, other.McidEvents), (McidCensored, other.McidCensored),
                 })
            for (var i = 0; i < into.Length; i++) into[i] += from[i];
    }

    public static CohortSums Of(IEnumerable<CohortSums> parts)
    {
        var sum = new CohortSums();
        foreach (var part in parts) sum.Add(part);
        return sum;
    }

    /// <summary>(baseline, score, count) for every non-empty pair of a pair histogram.</summary>
    public static IEnumerable<(int Baseline, int Score, long Count)> Pairs(long[] histogram)
    {
        for (var at = 0; at < histogram.Length; at++)
            if (histogram[at] != 0) yield return (at / 11, at % 11, histogram[at]);
    }

    public static Moments MomentsOf(IEnumerable<(double Value, long Count)> values) =>
        values.Aggregate(Moments.Zero, (m, v) => m + new Moments(v.Count, v.Value * v.Count, v.Value * v.Value * v.Count));

    public static Moments ChangeMoments(long[] pairs) =>
        MomentsOf(Pairs(pairs).Select(p => ((double)(p.Baseline - p.Score), p.Count)));

    public static Moments Histogram(long[] histogram, int offset) =>
        MomentsOf(histogram.Select((count, i) => ((double)(i - offset), count)).Where(x => x.count != 0));

    /// <summary>Sessions-to-MCID histograms as sparse maps for the survival estimate.</summary>
    public (IReadOnlyDictionary<int, long> Events, IReadOnlyDictionary<int, long> Censored) Survival() =>
        (Sparse(McidEvents), Sparse(McidCensored));

    private static Dictionary<int, long> Sparse(long[] histogram) =>
        histogram.Select((count, at) => (count, at)).Where(x => x.count != 0).ToDictionary(x => x.at, x => x.count);
}

/// <summary>X'X, X'y and y'y of the risk-adjusted model over some cells (for one clinic, or the
/// network), for two outcomes at once: NPRS change and NPRS responder. Integers, so exact and the
/// same in any order; per-clinic sums give the network's by addition and the clinic's benchmark.</summary>
public sealed class ModelSums
{
    public readonly long[] XtX;
    public readonly long[] XtyChange;
    public readonly long[] XtyResponder = new long[Design.Width];
    public long YtyChange;
    public long YtyResponder;

    public ModelSums() : this(new long[Design.Width * Design.Width], new long[Design.Width], 0)
    {
    }

    private ModelSums(long[] xtx, long[] xtyChange, long ytyChange) => (XtX, XtyChange, YtyChange) = (xtx, xtyChange, ytyChange);

    /// <summary>Sums whose X'X and change sums are <paramref name="design"/>'s own arrays (shared, never
    /// written: a study only reads its per-clinic sums), with responder sums of their own, empty.</summary>
    public static ModelSums SharingChange(ModelSums design) => new(design.XtX, design.XtyChange, design.YtyChange);

    /// <summary>Adds the responder sums of one cell, given its responders' count and baseline sum.</summary>
    public void AddResponders(long key, bool early, long responded, long respondedBaseline)
    {
        Span<int> columns = stackalloc int[6];
        columns = columns[..Design.Columns(key, early, columns)];
        foreach (var i in columns) XtyResponder[i] += responded;
        XtyResponder[Design.Baseline] += respondedBaseline;
        YtyResponder += responded;
    }

    public long N => XtX[0];

    private void Accumulate(long key, bool early, PairMoments change, PairMoments responder)
    {
        Span<int> columns = stackalloc int[6];
        columns = columns[..Design.Columns(key, early, columns)];
        var w = Design.Width;
        var last = Design.Baseline;
        foreach (var i in columns)
        {
            foreach (var j in columns) XtX[i * w + j] += change.N;
            XtX[i * w + last] += change.B;
            XtX[last * w + i] += change.B;
            XtyChange[i] += change.Y;
            XtyResponder[i] += responder.Y;
        }
        XtX[last * w + last] += change.BB;
        XtyChange[last] += change.BY;
        XtyResponder[last] += responder.BY;
        YtyChange += change.YY;
        YtyResponder += responder.YY;
    }

    /// <summary>Adds sums of the change outcome only (the dashboard keeps no responder model).</summary>
    public void AddChange(long[] xtx, long[] xty, long yty)
    {
        for (var i = 0; i < XtX.Length; i++) XtX[i] += xtx[i];
        for (var i = 0; i < XtyChange.Length; i++) XtyChange[i] += xty[i];
        YtyChange += yty;
    }

    /// <summary>Adds cell <paramref name="cell"/> of a flat table: its categorical columns are
    /// constant, baseline comes from its latest-NPRS pairs. <paramref name="responders"/> tabulates the
    /// study's responder rule (see <see cref="NprsRule.Table"/>).</summary>
    public void Add(FlatTable table, int cell, bool early, bool[] responders)
    {
        // The change's moments and the responders' in one pass over the cell's pairs (a handful:
        // cells hold few episodes), rather than kept per cell in every table. PairMoments.Of is
        // spelled out in locals here: this loop is a fifth of a broad study's CPU at 1M events, and
        // the one full benchmark run that summed the six-long struct per pair had the 1M broad p99
        // at 21 / 242 ms (1 / 16 clients) against 16-21 / 158-209 in the runs before (the medians
        // did not move, so it may have been noise; this is the code those runs measured).
        long n = 0, b = 0, bb = 0, y = 0, by = 0, yy = 0, responded = 0, respondedBaseline = 0;
        for (var p = table.PairStart[cell]; p < table.PairStart[cell + 1]; p++)
        {
            long count = table.PairCount[p], baseline = table.PairBaseline[p], change = baseline - table.PairScore[p];
            n += count; b += count * baseline; bb += count * baseline * baseline;
            y += count * change; by += count * baseline * change; yy += count * change * change;
            if (!responders[table.PairBaseline[p] * 11 + table.PairScore[p]]) continue;
            responded += count;
            respondedBaseline += count * baseline;
        }
        if (n == 0) return;
        var moments = new PairMoments(n, b, bb, y, by, yy);
        Accumulate(table.Keys[cell], early, moments, moments with { Y = responded, BY = respondedBaseline, YY = responded });
    }

    public void Add(ModelSums other)
    {
        for (var i = 0; i < XtX.Length; i++) XtX[i] += other.XtX[i];
        for (var i = 0; i < XtyChange.Length; i++)
        {
            XtyChange[i] += other.XtyChange[i];
            XtyResponder[i] += other.XtyResponder[i];
        }
        YtyChange += other.YtyChange;
        YtyResponder += other.YtyResponder;
    }
}

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>Additive sufficient statistics of a group of episodes: their count, the fixed-point
/// moments of mean relief and ODI change, and the sparse histograms of <see cref="Projecting.Slots"/>
/// as parallel sorted arrays. Immutable: adding or removing episodes returns new statistics, so a
/// snapshot that holds them never sees them change.</summary>
public sealed class CellStats
{
    public static readonly CellStats Empty = new(0, default, default, [], []);

    public CellStats(int episodes, FixedMoments relief, FixedMoments odi, int[] slots, int[] counts)
    {
        Episodes = episodes;
        Relief = relief;
        Odi = odi;
        Slots = slots;
        Counts = counts;
    }

    /// <summary>Episodes (not people: one patient may have several episodes of care).</summary>
    public int Episodes { get; }
    public FixedMoments Relief { get; }
    public FixedMoments Odi { get; }
    public int[] Slots { get; }
    public int[] Counts { get; }

    public bool IsEmpty => Episodes == 0;

    public int CountAt(int slot)
    {
        var at = Array.BinarySearch(Slots, slot);
        return at >= 0 ? Counts[at] : 0;
    }

    /// <summary>Total count over slots in [from, to).</summary>
    public int CountIn(int from, int to)
    {
        var total = 0;
        var start = Array.BinarySearch(Slots, from);
        for (var i = start >= 0 ? start : ~start; i < Slots.Length && Slots[i] < to; i++) total += Counts[i];
        return total;
    }

    public CellStats With(Contribution contribution, int sign)
    {
        // A contribution's slots are distinct (one per histogram, one per score below baseline).
        var slots = contribution.Slots();
        var ones = new int[slots.Length];
        Array.Fill(ones, 1);
        return new CellStats(Episodes + sign,
            Relief + (contribution.ReliefMoments?.Times(sign) ?? default),
            Odi + (contribution.OdiMoments?.Times(sign) ?? default),
            MergeSlots(Slots, Counts, (slots, ones), sign, out var counts), counts);
    }

    /// <summary>This plus <paramref name="sign"/> times <paramref name="other"/>.</summary>
    public CellStats Plus(CellStats other, int sign = 1)
    {
        if (other.Episodes == 0 && other.Slots.Length == 0) return this;
        return new CellStats(Episodes + sign * other.Episodes,
            Relief + other.Relief.Times(sign), Odi + other.Odi.Times(sign),
            MergeSlots(Slots, Counts, (other.Slots, other.Counts), sign, out var counts), counts);
    }

    private static int[] MergeSlots(int[] aSlots, int[] aCounts, (int[] Slots, int[] Counts) b, int sign, out int[] counts)
    {
        var slots = new int[aSlots.Length + b.Slots.Length];
        counts = new int[slots.Length];
        int i = 0, j = 0, n = 0;
        while (i < aSlots.Length || j < b.Slots.Length)
        {
            int slot, count;
            if (j >= b.Slots.Length || (i < aSlots.Length && aSlots[i] < b.Slots[j])) (slot, count) = (aSlots[i], aCounts[i++]);
            else if (i >= aSlots.Length || b.Slots[j] < aSlots[i]) (slot, count) = (b.Slots[j], sign * b.Counts[j++]);
            else (slot, count) = (aSlots[i], aCounts[i++] + sign * b.Counts[j++]);
            if (count == 0) continue;
            slots[n] = slot;
            counts[n++] = count;
        }
        if (n < slots.Length)
        {
            Array.Resize(ref slots, n);
            Array.Resize(ref counts, n);
        }
        return slots;
    }

    private PairList? _latest, _discharge, _followUp;
    private long[]? _measureCounts;
    private ulong[]? _fingerprints;

    /// <summary>Contributors per measure (see <see cref="Releasing.Measures"/>), worked out once per cell.</summary>
    public long[] MeasureCounts => _measureCounts ??= Releasing.Measures.Counts(this);

    /// <summary>Additive fingerprints per measure, worked out once per cell.</summary>
    public ulong[] Fingerprints => _fingerprints ??= Releasing.Measures.Fingerprints(this);

    /// <summary>One pair histogram in compact form, worked out once per cell (cells are immutable and
    /// shared by every snapshot that holds them, so a study pays this only for cells that changed).</summary>
    public PairList PairsOf(int family) => family switch
    {
        Projecting.Slots.Latest => _latest ??= PairList.Of(this, family),
        Projecting.Slots.Discharge => _discharge ??= PairList.Of(this, family),
        Projecting.Slots.FollowUp => _followUp ??= PairList.Of(this, family),
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    /// <summary>The sum of many cells in one pass (loading a table, not one change at a time).</summary>
    public static CellStats Sum(IReadOnlyList<CellStats> parts)
    {
        if (parts.Count == 1) return parts[0];
        // Every part's (slot, count) pairs sorted by slot, then equal slots added up.
        var total = 0;
        var (episodes, relief, odi) = (0, default(FixedMoments), default(FixedMoments));
        foreach (var part in parts)
        {
            episodes += part.Episodes;
            relief += part.Relief;
            odi += part.Odi;
            total += part.Slots.Length;
        }
        var (allSlots, allCounts) = (new int[total], new int[total]);
        var at = 0;
        foreach (var part in parts)
        {
            part.Slots.CopyTo(allSlots, at);
            part.Counts.CopyTo(allCounts, at);
            at += part.Slots.Length;
        }
        Array.Sort(allSlots, allCounts);
        var n = 0;
        for (var i = 0; i < total;)
        {
            var (slot, count) = (allSlots[i], 0);
            for (; i < total && allSlots[i] == slot; i++) count += allCounts[i];
            if (count == 0) continue;
            allSlots[n] = slot;
            allCounts[n++] = count;
        }
        return new CellStats(episodes, relief, odi, allSlots[..n], allCounts[..n]);
    }

    public bool SameAs(CellStats other) =>
        Episodes == other.Episodes && Relief == other.Relief && Odi == other.Odi &&
        Slots.AsSpan().SequenceEqual(other.Slots) && Counts.AsSpan().SequenceEqual(other.Counts);
}

/// <summary>The non-empty (baseline, score) pairs of one pair histogram of a cell, with the integer
/// moments of the change (baseline − score) they give.</summary>
public sealed class PairList
{
    private PairList(byte[] baselines, byte[] scores, int[] counts)
    {
        Baselines = baselines;
        Scores = scores;
        Counts = counts;
        for (var i = 0; i < counts.Length; i++)
        {
            long count = counts[i], b = baselines[i], y = b - scores[i];
            N += count; B += count * b; BB += count * b * b; Y += count * y; BY += count * b * y; YY += count * y * y;
        }
    }

    public byte[] Baselines { get; }
    public byte[] Scores { get; }
    public int[] Counts { get; }
    public long N { get; }
    public long B { get; }
    public long BB { get; }
    public long Y { get; }
    public long BY { get; }
    public long YY { get; }

    public static PairList Of(CellStats stats, int family)
    {
        var slots = stats.Slots;
        var start = Array.BinarySearch(slots, family);
        start = start >= 0 ? start : ~start;
        var end = start;
        while (end < slots.Length && slots[end] < family + 121) end++;
        var baselines = new byte[end - start];
        var scores = new byte[end - start];
        var counts = new int[end - start];
        for (var i = start; i < end; i++)
        {
            var at = slots[i] - family;
            (baselines[i - start], scores[i - start], counts[i - start]) = ((byte)(at / 11), (byte)(at % 11), stats.Counts[i]);
        }
        return new PairList(baselines, scores, counts);
    }
}

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
        Counts = Ones.Share(counts);
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

    /// <summary>The (baseline, score, count) entries of one pair histogram: a view of the cell's own
    /// slots, not a copy. Cells keep nothing derived from their counts: a node holds two cubes of
    /// some 80,000 cells each at 1M events, and every derived array kept per cell cost tens of MB.</summary>
    public Pairs PairsOf(int family)
    {
        var start = Array.BinarySearch(Slots, family);
        start = start >= 0 ? start : ~start;
        var end = start;
        while (end < Slots.Length && Slots[end] < family + 121) end++;
        return new Pairs(family, Slots.AsSpan(start, end - start), Counts.AsSpan(start, end - start));
    }

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

/// <summary>The non-empty (baseline, score) pairs of one pair histogram of a cell, read in place.</summary>
public readonly ref struct Pairs(int family, ReadOnlySpan<int> slots, ReadOnlySpan<int> counts)
{
    private readonly int _family = family;
    private readonly ReadOnlySpan<int> _slots = slots;

    public ReadOnlySpan<int> Counts { get; } = counts;

    public int Length => _slots.Length;

    public int Baseline(int i) => (_slots[i] - _family) / 11;

    public int Score(int i) => (_slots[i] - _family) % 11;

    /// <summary>Integer moments of the change y = baseline − score over the pairs.</summary>
    public Cube.PairMoments Change()
    {
        Cube.PairMoments moments = default;
        for (var i = 0; i < _slots.Length; i++) moments += Cube.PairMoments.Of(Baseline(i), Score(i), Counts[i]);
        return moments;
    }
}

/// <summary>Count arrays that are all ones, shared: most cells hold one episode (the cell key is
/// nearly unique per episode), and each of its slots then counts 1. Arrays handed to
/// <see cref="CellStats"/> are never written afterwards, so cells may share one.</summary>
internal static class Ones
{
    private const int Longest = 256;
    private static readonly int[]?[] Arrays = new int[]?[Longest + 1];

    public static int[] Share(int[] counts)
    {
        if (counts.Length > Longest || counts.AsSpan().ContainsAnyExcept(1)) return counts;
        // Two threads may both make one; either serves, and the second simply wins the slot.
        return Volatile.Read(ref Arrays[counts.Length]) ?? (Arrays[counts.Length] = counts);
    }
}


using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Cube;

/// <summary>A table laid out for scanning: keys, counts and every cell's histogram slots in parallel
/// arrays (struct of arrays), so a study walks memory in order instead of chasing one object per
/// cell. Built once per table of a release (releases do not change), O(cells).</summary>
public sealed class FlatTable
{
    public long[] Keys { get; }
    public int[] Episodes { get; }
    public FixedMoments[] Relief { get; }
    public FixedMoments[] Odi { get; }

    /// <summary>Cell i's slots are <c>Slots[SlotStart[i] .. SlotStart[i + 1]]</c>.</summary>
    public int[] SlotStart { get; }
    public int[] Slots { get; }
    public int[] Counts { get; }

    /// <summary>Cell i's latest-NPRS pairs are <c>[PairStart[i] .. PairStart[i + 1]]</c>.</summary>
    public int[] PairStart { get; }
    public byte[] PairBaseline { get; }
    public byte[] PairScore { get; }
    public int[] PairCount { get; }

    public int Count => Keys.Length;

    public FlatTable(CubeTable table)
    {
        var cells = table.Cells;
        var n = cells.Length;
        Keys = new long[n];
        Episodes = new int[n];
        Relief = new FixedMoments[n];
        Odi = new FixedMoments[n];
        SlotStart = new int[n + 1];
        PairStart = new int[n + 1];
        var slots = 0;
        var pairs = 0;
        for (var i = 0; i < n; i++)
        {
            slots += cells[i].Stats.Slots.Length;
            pairs += cells[i].Stats.PairsOf(Projecting.Slots.Latest).Length;
        }
        Slots = new int[slots];
        Counts = new int[slots];
        PairBaseline = new byte[pairs];
        PairScore = new byte[pairs];
        PairCount = new int[pairs];
        (slots, pairs) = (0, 0);
        for (var i = 0; i < n; i++)
        {
            var stats = cells[i].Stats;
            Keys[i] = cells[i].Key;
            Episodes[i] = stats.Episodes;
            Relief[i] = stats.Relief;
            Odi[i] = stats.Odi;
            SlotStart[i] = slots;
            stats.Slots.CopyTo(Slots, slots);
            stats.Counts.CopyTo(Counts, slots);
            slots += stats.Slots.Length;
            var latest = stats.PairsOf(Projecting.Slots.Latest);
            PairStart[i] = pairs;
            for (var p = 0; p < latest.Length; p++, pairs++)
                (PairBaseline[pairs], PairScore[pairs], PairCount[pairs]) = ((byte)latest.Baseline(p), (byte)latest.Score(p), latest.Counts[p]);
        }
        SlotStart[n] = slots;
        PairStart[n] = pairs;
    }
}

using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Releasing;

/// <summary>A published release: the outcome read models frozen at an event sequence, with what
/// each study may publish from them. Researchers read releases only, and <c>asOf</c> names one.</summary>
public sealed class OutcomeRelease
{
    /// <summary>The release number, 1, 2, …</summary>
    public int Id { get; set; }
    public long Sequence { get; set; }
    public DateTimeOffset CutAt { get; set; }
    /// <summary>The quarter (index) open when the release was cut: it publishes episodes that started before it.</summary>
    public int OpenQuarter { get; set; }
    public Disclosure Disclosure { get; set; } = new();
    public NetworkFigures Network { get; set; } = NetworkFigures.None;
}

/// <summary>Cells of the latest release, as stored: a chunk of them in column form (the release's
/// chunks replace the previous release's, so a node starting up loads the latest release without
/// replaying the log). A few documents of number arrays, not one JSON object per cell: a restarted
/// node parses them in a fraction of the time, and a cut writes a handful of rows.</summary>
public sealed class ReleasedCells
{
    /// <summary>Cells per chunk: documents of a few megabytes.</summary>
    public const int ChunkSize = 8_192;

    /// <summary><c>{release}:{chunk}</c>.</summary>
    public string Id { get; set; } = "";
    public int Release { get; set; }
    public int Chunk { get; set; }
    /// <summary>The clinics the keys' clinic fields index.</summary>
    public string[] Clinics { get; set; } = [];
    /// <summary>Packed fine keys (see <c>PackedKey</c>), one per cell.</summary>
    public long[] Keys { get; set; } = [];
    public int[] Episodes { get; set; } = [];
    public FixedMoments[] Relief { get; set; } = [];
    public FixedMoments[] Odi { get; set; } = [];
    /// <summary>Cell i's slots and counts are at [SlotStart[i], SlotStart[i + 1]).</summary>
    public int[] SlotStart { get; set; } = [];
    public int[] Slots { get; set; } = [];
    public int[] Counts { get; set; } = [];

    public static IEnumerable<ReleasedCells> Of(int release, IReadOnlyList<(long Key, CellStats Stats)> cells, IReadOnlyList<string> clinics,
        int chunkSize = ChunkSize)
    {
        for (var chunk = 0; chunk * chunkSize < cells.Count; chunk++)
        {
            var part = cells.Skip(chunk * chunkSize).Take(chunkSize).ToList();
            var starts = new int[part.Count + 1];
            for (var i = 0; i < part.Count; i++) starts[i + 1] = starts[i] + part[i].Stats.Slots.Length;
            yield return new ReleasedCells
            {
                Id = $"{release}:{chunk}", Release = release, Chunk = chunk, Clinics = [.. clinics],
                Keys = [.. part.Select(c => c.Key)], Episodes = [.. part.Select(c => c.Stats.Episodes)],
                Relief = [.. part.Select(c => c.Stats.Relief)], Odi = [.. part.Select(c => c.Stats.Odi)],
                SlotStart = starts, Slots = [.. part.SelectMany(c => c.Stats.Slots)], Counts = [.. part.SelectMany(c => c.Stats.Counts)],
            };
        }
    }

    public IEnumerable<(CellKey Key, CellStats Stats)> Cells()
    {
        for (var i = 0; i < Keys.Length; i++)
        {
            var (from, to) = (SlotStart[i], SlotStart[i + 1]);
            yield return (Cube.CubeKeys.Unpack(Keys[i], Clinics),
                new CellStats(Episodes[i], Relief[i], Odi[i], Slots[from..to], Counts[from..to]));
        }
    }
}

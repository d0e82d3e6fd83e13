using System.Text.Json.Serialization;
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

/// <summary>A cell of the latest release, as stored (the release's cells replace the previous ones,
/// so a node starting up loads the latest release without replaying the log).</summary>
public sealed class ReleasedCell
{
    public string Id { get; set; } = "";
    public int Release { get; set; }
    public CellKey Key { get; set; } = null!;
    public int Episodes { get; set; }
    public FixedMoments Relief { get; set; }
    public FixedMoments Odi { get; set; }
    public int[] Slots { get; set; } = [];
    public int[] Counts { get; set; } = [];

    [JsonIgnore]
    public CellStats Stats => new(Episodes, Relief, Odi, Slots, Counts);
}

using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Gateway.BrowsingEpisodes;

/// <summary>What a row shows of the episode's quasi-identifiers (everything of its cell key) at
/// one generalisation level; null means withheld. Rows with equal released keys cannot be told
/// apart by anyone who knows a patient's clinic, region, age, sex, work or dates.</summary>
public sealed record ReleasedKey(
    int Level,
    StudyCohort Cohort,
    RowStatus Status,
    int DurationWeeksFrom,
    int? DurationWeeksBelow,
    string? StartQuarter,
    string StartYear,
    string? Clinic,
    ComplaintRegion? Region,
    OccupationGroup? Occupation,
    AgeBand? AgeBand,
    Sex? Sex,
    FormatClass? Format)
{
    /// <summary>First and last month the released period covers (quarter or year).</summary>
    public (string From, string To) Period => StartQuarter is { } q ? Quarters.Months(q) : ($"{StartYear}-01", $"{StartYear}-12");
}

/// <summary>Episode-level rows made k-anonymous from the cells alone. Every row of a cell shares
/// the cell's quasi-identifiers, so a cell is released whole at the first level of a fixed
/// generalisation ladder where the rows still unreleased that look alike number at least k;
/// cells that never get there are not shown. Every released row is then indistinguishable from
/// at least k − 1 others on every quasi-identifier, network-wide and whatever filter selects it
/// (filters match released values only, so they select whole classes). Computed from the fine
/// cells once per snapshot: O(cells × levels), never O(episodes).</summary>
public sealed class EpisodeRelease
{
    /// <summary>The ladder: what each level withholds beyond the one before it.</summary>
    public static readonly IReadOnlyList<string[]> Ladder =
    [
        [],
        ["sex"],
        ["occupation"],
        ["format"],
        ["ageBand"],
        ["clinic"],
        ["startQuarter"],
        ["region"],
    ];

    private readonly Dictionary<string, ReleasedKey> _released;

    private EpisodeRelease(Dictionary<string, ReleasedKey> released, long withheldEpisodes) =>
        (_released, WithheldEpisodes) = (released, withheldEpisodes);

    /// <summary>Episodes whose cell reached no level: never shown as rows.</summary>
    public long WithheldEpisodes { get; }

    /// <summary>Released key by cell id (<see cref="CellKey.Id"/>).</summary>
    public IReadOnlyDictionary<string, ReleasedKey> ByCell => _released;

    /// <summary>Episodes per released cell id.</summary>
    public IReadOnlyDictionary<string, int> Episodes { get; private init; } = new Dictionary<string, int>();

    public static IReadOnlyList<string> WithheldAt(int level) => [.. Ladder.Take(level + 1).SelectMany(w => w)];

    public static EpisodeRelease Of(CubeSnapshot snapshot, int k)
    {
        var released = new Dictionary<string, ReleasedKey>();
        var episodes = new Dictionary<string, int>();
        var pending = new List<(CellKey Key, int Episodes)>();
        foreach (var cell in snapshot.Fine.Cells)
            if (cell.Stats.Episodes > 0) pending.Add((CubeKeys.Unpack(cell.Key, snapshot.Clinics), cell.Stats.Episodes));
        for (var level = 0; level < Ladder.Count && pending.Count > 0; level++)
        {
            var stillPending = new List<(CellKey, int)>();
            foreach (var group in pending.GroupBy(c => Generalize(c.Key, level)))
            {
                if (group.Sum(c => c.Episodes) >= k)
                    foreach (var (key, count) in group)
                    {
                        released[key.Id] = group.Key;
                        episodes[key.Id] = count;
                    }
                else
                    stillPending.AddRange(group);
            }
            pending = stillPending;
        }
        return new EpisodeRelease(released, pending.Sum(c => (long)c.Episodes)) { Episodes = episodes };
    }

    public static ReleasedKey Generalize(CellKey key, int level) => new(
        level,
        key.Duration switch
        {
            PainDuration.Under6 => StudyCohort.Acute,
            PainDuration.From6To11 => StudyCohort.Subacute,
            _ => StudyCohort.Chronic,
        },
        key.Completed ? RowStatus.Discharged : RowStatus.Active,
        PainDurations.From(key.Duration), PainDurations.Below(key.Duration),
        level < 6 ? key.Quarter : null,
        key.Quarter[..4],
        level < 5 ? key.Clinic : null,
        level < 7 ? key.Region : null,
        level < 2 ? key.Occupation : null,
        level < 4 ? key.AgeBand : null,
        level < 1 ? key.Sex : null,
        level < 3 ? key.Format : null);
}

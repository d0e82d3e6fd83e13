using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;

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
    string? StartMonth,
    string? StartQuarter,
    string StartYear,
    string? Clinic,
    ComplaintRegion? Region,
    OccupationGroup? Occupation,
    AgeBand? AgeBand,
    Sex? Sex,
    FormatClass? Format)
{
    /// <summary>First and last month the released period covers (month, quarter or year).</summary>
    public (string From, string To) Period => StartMonth is { } m ? (m, m)
        : StartQuarter is { } q ? ($"{q[..4]}-{(q[5] - '1') * 3 + 1:00}", $"{q[..4]}-{(q[5] - '1') * 3 + 3:00}")
        : ($"{StartYear}-01", $"{StartYear}-12");
}

/// <summary>Episode-level rows made k-anonymous from the cells alone. Every row of a cell shares
/// the cell's quasi-identifiers, so a cell is released whole at the first level of a fixed
/// generalisation ladder where the rows still unreleased that look alike number at least k;
/// cells that never get there are not shown. Every released row is then indistinguishable from
/// at least k − 1 others on every quasi-identifier, network-wide and whatever filter selects it
/// (filters match released values only, so they select whole classes). Computed from cells:
/// O(cells × levels), never O(episodes).</summary>
public sealed class EpisodeRelease
{
    /// <summary>The ladder: what each level withholds beyond the one before it.</summary>
    public static readonly IReadOnlyList<string[]> Ladder =
    [
        [],
        ["startMonth", "durationWeeks"],
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

    public IReadOnlyDictionary<string, ReleasedKey> ByCell => _released;

    public static IReadOnlyList<string> WithheldAt(int level) => [.. Ladder.Take(level + 1).SelectMany(w => w)];

    public static EpisodeRelease Of(IReadOnlyList<OutcomeCell> cells, int k)
    {
        var released = new Dictionary<string, ReleasedKey>();
        var pending = cells.Where(c => c.Episodes > 0).ToList();
        for (var level = 0; level < Ladder.Count && pending.Count > 0; level++)
        {
            var stillPending = new List<OutcomeCell>();
            foreach (var group in pending.GroupBy(c => Generalize(c.Key, level)))
            {
                if (group.Sum(c => c.Episodes) >= k)
                    foreach (var cell in group) released[cell.Id] = group.Key;
                else
                    stillPending.AddRange(group);
            }
            pending = stillPending;
        }
        return new EpisodeRelease(released, pending.Sum(c => (long)c.Episodes));
    }

    public static ReleasedKey Generalize(CellKey key, int level)
    {
        var (from, below) = level == 0 ? Band(key.DurationBand) : Atom(key.DurationBand);
        var quarter = StudyQuery.QuarterOf(key.StartMonth);
        return new ReleasedKey(
            level,
            key.DurationBand < 6 ? StudyCohort.Acute : key.DurationBand < 12 ? StudyCohort.Subacute : StudyCohort.Chronic,
            key.Completed ? RowStatus.Discharged : RowStatus.Active,
            from, below,
            level < 1 ? key.StartMonth : null,
            level < 7 ? quarter : null,
            key.StartMonth[..4],
            level < 6 ? key.Clinic : null,
            level < 8 ? key.Region : null,
            level < 3 ? key.Occupation : null,
            level < 5 ? key.AgeBand : null,
            level < 2 ? key.Sex : null,
            level < 4 ? key.Format : null);
    }

    /// <summary>The cell's own duration band: single weeks below 26, then the wide bands.</summary>
    private static (int, int?) Band(int band) =>
        band < 26 ? (band, band + 1) : (band, DurationBands.WideEdges.Where(e => e > band).Select(e => (int?)e).FirstOrDefault());

    /// <summary>The band between the study thresholds (6, 12, 26, 52 weeks) holding it.</summary>
    private static (int, int?) Atom(int band)
    {
        var t = DurationBands.Thresholds;
        var atom = Suppression.DurationAtom(band);
        return (atom == 0 ? 0 : t[atom - 1], atom < t.Length ? t[atom] : null);
    }
}

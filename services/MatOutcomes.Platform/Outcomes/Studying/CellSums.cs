using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>The sum of some cells: still sufficient statistics, now for a group of patients.</summary>
public sealed class CellSums
{
    public long Patients { get; private set; }
    public long[] NprsPairs { get; } = new long[121];
    public Moments Relief { get; private set; } = Moments.Zero;
    public Dictionary<int, long> NdiChange { get; } = [];
    public Moments OdiChange { get; private set; } = Moments.Zero;
    public Dictionary<int, long> OdiChangeFloor { get; } = [];
    public Dictionary<int, long> McidAfterSessions { get; } = [];
    public Dictionary<int, long> CensoredAfterSessions { get; } = [];
    public long FollowedUp { get; private set; }
    public long Relapsed { get; private set; }

    public static CellSums Of(IEnumerable<OutcomeCell> cells)
    {
        var sums = new CellSums();
        foreach (var cell in cells) sums.Add(cell);
        return sums;
    }

    public void Add(OutcomeCell cell)
    {
        Patients += cell.Episodes;
        foreach (var (at, count) in cell.NprsPairs) NprsPairs[at] += count;
        Relief += cell.Relief;
        OdiChange += cell.OdiChange;
        Merge(NdiChange, cell.NdiChange);
        Merge(OdiChangeFloor, cell.OdiChangeFloor);
        Merge(McidAfterSessions, cell.McidAfterSessions);
        Merge(CensoredAfterSessions, cell.CensoredAfterSessions);
        FollowedUp += cell.FollowedUp;
        Relapsed += cell.Relapsed;
    }

    /// <summary>(baseline, latest, count) for every non-empty NPRS pair.</summary>
    public IEnumerable<(int Baseline, int Latest, long Count)> Pairs() =>
        NprsPairs.Select((count, at) => (at / 11, at % 11, count)).Where(p => p.count > 0);

    public static Moments MomentsOf(IEnumerable<(double Value, long Count)> values) =>
        values.Aggregate(Moments.Zero, (m, v) => m + new Moments(v.Count, v.Value * v.Count, v.Value * v.Value * v.Count));

    private static void Merge(Dictionary<int, long> into, Dictionary<int, int> from)
    {
        foreach (var (at, count) in from) into[at] = into.GetValueOrDefault(at) + count;
    }
}

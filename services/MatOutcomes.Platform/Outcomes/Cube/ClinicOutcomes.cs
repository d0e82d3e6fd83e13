using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Cube;

/// <summary>The risk-adjustment design: intercept, early (below the chronic threshold), treatment-coded
/// region, age band, sex and occupation (first level of each is the reference), and baseline NPRS
/// last. Every column but baseline is constant within a cell.</summary>
public static class Design
{
    public const int Early = 1;
    private const int RegionFrom = 2;
    private static readonly int AgeFrom = RegionFrom + Enum.GetValues<ComplaintRegion>().Length - 1;
    private static readonly int SexFrom = AgeFrom + Enum.GetValues<AgeBand>().Length - 1;
    private static readonly int OccupationFrom = SexFrom + Enum.GetValues<Sex>().Length - 1;
    public static readonly int Baseline = OccupationFrom + Enum.GetValues<OccupationGroup>().Length - 1;
    public static readonly int Width = Baseline + 1;

    public static readonly string[] Names = BuildNames();

    private static string[] BuildNames()
    {
        var names = new List<string> { "intercept", "early" };
        names.AddRange(Enum.GetValues<ComplaintRegion>().Skip(1).Select(r => $"region:{r}"));
        names.AddRange(Enum.GetValues<AgeBand>().Skip(1).Select(a => $"ageBand:{a}"));
        names.AddRange(Enum.GetValues<Sex>().Skip(1).Select(s => $"sex:{s}"));
        names.AddRange(Enum.GetValues<OccupationGroup>().Skip(1).Select(o => $"occupation:{o}"));
        names.Add("baselineNprs");
        return [.. names];
    }

    /// <summary>The categorical columns that are 1 for a cell (the rest are 0), ascending, written
    /// into <paramref name="columns"/> (6 long); returns how many.</summary>
    public static int Columns(long key, bool early, Span<int> columns)
    {
        var n = 0;
        columns[n++] = 0;
        if (early) columns[n++] = Early;
        if (PackedKey.Region(key) is var r && r != 0) columns[n++] = RegionFrom + (int)r - 1;
        if (PackedKey.AgeBand(key) is var a && a != 0) columns[n++] = AgeFrom + (int)a - 1;
        if (PackedKey.Sex(key) is var s && s != 0) columns[n++] = SexFrom + (int)s - 1;
        if (PackedKey.Occupation(key) is var o && o != 0) columns[n++] = OccupationFrom + (int)o - 1;
        return n;
    }

    public static int[] Columns(long key, bool early)
    {
        Span<int> columns = stackalloc int[6];
        return columns[..Columns(key, early, columns)].ToArray();
    }
}

/// <summary>Integer moments of one cell's NPRS pairs (baseline b, score l) for an outcome y (change
/// b − l, or responder 0/1): what the risk-adjusted model sums.</summary>
public readonly record struct PairMoments(long N, long B, long BB, long Y, long BY, long YY)
{
    public static PairMoments operator +(PairMoments a, PairMoments b) =>
        new(a.N + b.N, a.B + b.B, a.BB + b.BB, a.Y + b.Y, a.BY + b.BY, a.YY + b.YY);

    public PairMoments Times(int sign) => new(sign * N, sign * B, sign * BB, sign * Y, sign * BY, sign * YY);

    /// <summary>The moments of <paramref name="count"/> episodes of one (baseline, score) pair, the
    /// outcome being the change baseline − score.</summary>
    public static PairMoments Of(long baseline, long score, long count)
    {
        var change = baseline - score;
        return new(count, count * baseline, count * baseline * baseline, count * change, count * baseline * change, count * change * change);
    }

    /// <summary>Moments of the change (baseline − score).</summary>
    public static PairMoments Change(CellStats stats, int family) => stats.PairsOf(family).Change();

    /// <summary>Moments of a 0/1 outcome, <paramref name="counts"/>[baseline × 11 + score] saying
    /// which pairs count as 1 (a responder rule, tabulated once per study).</summary>
    public static PairMoments Indicator(CellStats stats, int family, bool[] counts)
    {
        var pairs = stats.PairsOf(family);
        var change = pairs.Change();
        long y = 0, by = 0;
        for (var i = 0; i < pairs.Length; i++)
        {
            var baseline = pairs.Baseline(i);
            if (!counts[baseline * 11 + pairs.Score(i)]) continue;
            y += pairs.Counts[i];
            by += (long)pairs.Counts[i] * baseline;
        }
        return new(change.N, change.B, change.BB, y, by, y);
    }
}

/// <summary>The dashboard's fixed definitions for one group: every episode, in care or discharged
/// (interim outcomes), change to the latest NPRS, responders at 2 points and 30%.</summary>
public readonly record struct GroupTally(long Patients, FixedMoments Relief, long ChangeN, long ChangeSum, long ChangeSumOfSquares, long Responders)
{
    public static GroupTally operator +(GroupTally a, GroupTally b) => new(a.Patients + b.Patients, a.Relief + b.Relief,
        a.ChangeN + b.ChangeN, a.ChangeSum + b.ChangeSum, a.ChangeSumOfSquares + b.ChangeSumOfSquares, a.Responders + b.Responders);

    public GroupTally Times(int sign) => new(sign * Patients, Relief.Times(sign), sign * ChangeN, sign * ChangeSum,
        sign * ChangeSumOfSquares, sign * Responders);

    [System.Text.Json.Serialization.JsonIgnore]
    public Moments Change => new(ChangeN, ChangeSum, ChangeSumOfSquares);
}

/// <summary>One clinic's running sums for its managers' dashboard, kept current from the cells that
/// change: early and chronic outcomes (12-week threshold), episodes in care, and the clinic's part
/// of the benchmark model (X'X, X'y, y'y of durable change), so a dashboard update and the network
/// model cost O(clinics), never O(cells or episodes). Immutable.</summary>
public sealed class ClinicOutcomes
{
    public const int ChronicFromWeeks = 12;
    private static readonly bool[] DefaultResponders = NprsRule.Default.Table();

    public GroupTally Early { get; private init; }
    public GroupTally Chronic { get; private init; }
    public long ActiveEarly { get; private init; }
    public long ActiveChronic { get; private init; }
    /// <summary>Row-major X'X over the clinic's scored episodes (integers: exact in any order).</summary>
    public long[] XtX { get; private init; } = new long[Design.Width * Design.Width];
    public long[] Xty { get; private init; } = new long[Design.Width];
    public long Yty { get; private init; }

    public static readonly ClinicOutcomes Empty = new();

    public GroupTally All => Early + Chronic;

    /// <summary>These sums with one cell's episodes added (sign +1) or taken out (−1).</summary>
    public ClinicOutcomes With(long key, CellStats stats, int sign) => WithAll([(key, stats, sign)]);

    /// <summary>These sums with many cells added or taken out at once (a load copies the arrays once).</summary>
    public ClinicOutcomes WithAll(IEnumerable<(long Key, CellStats Stats, int Sign)> changes)
    {
        var xtx = (long[])XtX.Clone();
        var xty = (long[])Xty.Clone();
        var (earlySums, chronicSums, activeEarly, activeChronic, yty) = (Early, Chronic, ActiveEarly, ActiveChronic, Yty);
        var w = Design.Width;
        var last = Design.Baseline;
        Span<int> columns = stackalloc int[6];
        foreach (var (key, stats, sign) in changes)
        {
            var early = PainDurations.IsEarly(PackedKey.Duration(key), ChronicFromWeeks);
            var change = PairMoments.Change(stats, Slots.Latest);
            var responders = PairMoments.Indicator(stats, Slots.Latest, DefaultResponders).Y;
            var group = new GroupTally(stats.Episodes, stats.Relief, change.N, change.Y, change.YY, responders).Times(sign);
            var active = PackedKey.Completed(key) ? 0 : stats.Episodes * sign;
            if (early) (earlySums, activeEarly) = (earlySums + group, activeEarly + active);
            else (chronicSums, activeChronic) = (chronicSums + group, activeChronic + active);

            var m = change.Times(sign);
            var used = columns[..Design.Columns(key, early, columns)];
            foreach (var i in used)
            {
                foreach (var j in used) xtx[i * w + j] += m.N;
                xtx[i * w + last] += m.B;
                xtx[last * w + i] += m.B;
                xty[i] += m.Y;
            }
            xtx[last * w + last] += m.BB;
            xty[last] += m.BY;
            yty += m.YY;
        }
        return new ClinicOutcomes
        {
            Early = earlySums, Chronic = chronicSums, ActiveEarly = activeEarly, ActiveChronic = activeChronic,
            XtX = xtx, Xty = xty, Yty = yty,
        };
    }
}

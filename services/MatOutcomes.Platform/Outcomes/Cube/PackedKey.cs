using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Cube;

/// <summary>The dimensions of a cell key.</summary>
[Flags]
public enum Dimension
{
    None = 0,
    Clinic = 1,
    Quarter = 2,
    Format = 4,
    Completed = 8,
    Duration = 16,
    Region = 32,
    Occupation = 64,
    AgeBand = 128,
    Sex = 256,
    /// <summary>What the risk-adjusted model needs: every covariate and the cohort.</summary>
    Covariates = Duration | Region | Occupation | AgeBand | Sex,
    All = Clinic | Quarter | Format | Completed | Covariates,
}

/// <summary>A cell key in one long: each dimension a small field (clinic as an index into the
/// <see cref="ClinicDirectory"/>). Rolling a key up to fewer dimensions is a mask.</summary>
public static class PackedKey
{
    // Field widths, low bits first.
    private static readonly (Dimension Dimension, int Bits)[] Layout =
    [
        (Dimension.Sex, 2), (Dimension.AgeBand, 3), (Dimension.Occupation, 3), (Dimension.Region, 2),
        (Dimension.Duration, 3), (Dimension.Completed, 1), (Dimension.Format, 2), (Dimension.Quarter, 10), (Dimension.Clinic, 24),
    ];

    private static readonly Dictionary<Dimension, (int Shift, long Mask)> Fields = BuildFields();

    private static Dictionary<Dimension, (int Shift, long Mask)> BuildFields()
    {
        var fields = new Dictionary<Dimension, (int, long)>();
        var shift = 0;
        foreach (var (dimension, bits) in Layout)
        {
            fields[dimension] = (shift, ((1L << bits) - 1) << shift);
            shift += bits;
        }
        return fields;
    }

    public static long Pack(int clinic, CellKey key) =>
        Put(Dimension.Clinic, clinic) | Put(Dimension.Quarter, Quarters.Index(key.Quarter)) | Put(Dimension.Format, (int)key.Format) |
        Put(Dimension.Completed, key.Completed ? 1 : 0) | Put(Dimension.Duration, (int)key.Duration) |
        Put(Dimension.Region, (int)key.Region) | Put(Dimension.Occupation, (int)key.Occupation) |
        Put(Dimension.AgeBand, (int)key.AgeBand) | Put(Dimension.Sex, (int)key.Sex);

    private static long Put(Dimension dimension, int value)
    {
        var (shift, mask) = Fields[dimension];
        var packed = (long)value << shift;
        if ((packed & mask) != packed) throw new ArgumentOutOfRangeException(nameof(value), $"{dimension} {value} does not fit its field");
        return packed;
    }

    public static int Get(long key, Dimension dimension)
    {
        var (shift, mask) = Fields[dimension];
        return (int)((key & mask) >> shift);
    }

    /// <summary>The bits of the given dimensions: <c>key &amp; Mask(d)</c> rolls a key up to them.</summary>
    public static long Mask(Dimension dimensions) =>
        Fields.Where(f => dimensions.HasFlag(f.Key)).Aggregate(0L, (m, f) => m | f.Value.Mask);

    public static int Clinic(long key) => (int)((key & ClinicMask) >> ClinicShift);
    public static int Quarter(long key) => (int)((key & QuarterMask) >> QuarterShift);
    public static int Format(long key) => (int)((key >> FormatShift) & 3);
    public static bool Completed(long key) => ((key >> CompletedShift) & 1) == 1;
    public static PainDuration Duration(long key) => (PainDuration)((key >> DurationShift) & 7);
    public static ComplaintRegion Region(long key) => (ComplaintRegion)((key >> RegionShift) & 3);
    public static OccupationGroup Occupation(long key) => (OccupationGroup)((key >> OccupationShift) & 7);
    public static AgeBand AgeBand(long key) => (AgeBand)((key >> AgeShift) & 7);
    public static Sex Sex(long key) => (Sex)(key & 3);

    private static readonly int AgeShift = Fields[Dimension.AgeBand].Shift;
    private static readonly int OccupationShift = Fields[Dimension.Occupation].Shift;
    private static readonly int RegionShift = Fields[Dimension.Region].Shift;
    private static readonly int DurationShift = Fields[Dimension.Duration].Shift;
    private static readonly int CompletedShift = Fields[Dimension.Completed].Shift;
    private static readonly int FormatShift = Fields[Dimension.Format].Shift;
    private static readonly int QuarterShift = Fields[Dimension.Quarter].Shift;
    private static readonly long QuarterMask = Fields[Dimension.Quarter].Mask;
    private static readonly int ClinicShift = Fields[Dimension.Clinic].Shift;
    private static readonly long ClinicMask = Fields[Dimension.Clinic].Mask;

    /// <summary>Covariate pattern index (duration, region, occupation, age band, sex): the low 13 bits.</summary>
    public static int Pattern(long key) => (int)(key & PatternMask);
    public static readonly long PatternMask = Mask(Dimension.Covariates);
    public const int Patterns = 1 << 13;
}

/// <summary>Clinic ids to small indexes, in order of first sight. Append-only; readers see an
/// immutable list.</summary>
public sealed class ClinicDirectory
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _indexes = new(StringComparer.Ordinal);
    private volatile string[] _ids = [];

    public IReadOnlyList<string> Ids => _ids;

    public int IndexOf(string clinic)
    {
        lock (_lock)
        {
            if (_indexes.TryGetValue(clinic, out var index)) return index;
            index = _ids.Length;
            _indexes[clinic] = index;
            _ids = [.. _ids, clinic];
            return index;
        }
    }

    public int? Find(string clinic)
    {
        lock (_lock) return _indexes.TryGetValue(clinic, out var index) ? index : null;
    }

    public string this[int index] => _ids[index];
}

public static class CubeKeys
{
    /// <summary>The cell key a packed fine key stands for.</summary>
    public static CellKey Unpack(long key, IReadOnlyList<string> clinics) => new(
        clinics[PackedKey.Clinic(key)], Quarters.FromIndex(PackedKey.Quarter(key)), (FormatClass)PackedKey.Format(key),
        PackedKey.Completed(key), PackedKey.Duration(key), PackedKey.Region(key), PackedKey.Occupation(key),
        PackedKey.AgeBand(key), PackedKey.Sex(key));
}

using System.Globalization;
using MatOutcomes.Contracts.Episodes;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>How an episode's session format is classed: by the majority of its sessions (ties by
/// its first session); <c>None</c> until it has one.</summary>
public enum FormatClass { None, StandaloneMat, WithinMassage }

/// <summary>Pain duration at the start of care, in the bands between the chronic thresholds a study
/// may choose (6, 12, 26, 52 weeks). A study can tell nothing finer apart, so the cells hold
/// nothing finer: acute is <see cref="Under6"/>, subacute <see cref="From6To11"/>.</summary>
public enum PainDuration { Under6, From6To11, From12To25, From26To51, From52 }

public static class PainDurations
{
    /// <summary>Thresholds (weeks) a study may put between early and chronic.</summary>
    public static readonly int[] Thresholds = [6, 12, 26, 52];

    public const int Count = 5;

    public static PainDuration Of(int weeks) => (PainDuration)Thresholds.Count(t => t <= weeks);

    /// <summary>First week of the band.</summary>
    public static int From(PainDuration band) => band == PainDuration.Under6 ? 0 : Thresholds[(int)band - 1];

    /// <summary>First week after the band; null for the last, open band.</summary>
    public static int? Below(PainDuration band) => (int)band < Thresholds.Length ? Thresholds[(int)band] : null;

    /// <summary>The bands below a threshold: early.</summary>
    public static bool IsEarly(PainDuration band, int chronicFromWeeks) => (Below(band) ?? int.MaxValue) <= chronicFromWeeks;
}

/// <summary>Calendar quarters of episode start, "yyyyQn". Studies select periods in whole quarters.</summary>
public static class Quarters
{
    public static string Of(DateOnly date) => $"{date.Year:0000}Q{(date.Month - 1) / 3 + 1}";

    public static string OfMonth(string month) =>
        $"{month[..4]}Q{(int.Parse(month[5..], CultureInfo.InvariantCulture) - 1) / 3 + 1}";

    /// <summary>A dense index (quarters since 2000Q1) for packing keys.</summary>
    public static int Index(string quarter) =>
        (int.Parse(quarter[..4], CultureInfo.InvariantCulture) - 2000) * 4 + (quarter[5] - '1');

    public static string FromIndex(int index) => $"{2000 + index / 4:0000}Q{index % 4 + 1}";

    public static (string FirstMonth, string LastMonth) Months(string quarter)
    {
        var first = (quarter[5] - '1') * 3 + 1;
        return ($"{quarter[..4]}-{first:00}", $"{quarter[..4]}-{first + 2:00}");
    }
}

/// <summary>The cell an episode's numbers are summed into: exactly the dimensions a study can
/// filter or adjust by, at the grain a study can tell apart. Anything finer a statistic needs
/// (baseline NPRS, scores, sessions) lives in the cell's histograms, not in its key.</summary>
public sealed record CellKey(
    string Clinic,
    string Quarter,
    FormatClass Format,
    bool Completed,
    PainDuration Duration,
    ComplaintRegion Region,
    OccupationGroup Occupation,
    AgeBand AgeBand,
    Sex Sex)
{
    public string Id => $"{Clinic}|{Quarter}|{(int)Format}|{(Completed ? 1 : 0)}|{(int)Duration}|{(int)Region}|{(int)Occupation}|{(int)AgeBand}|{(int)Sex}";
}

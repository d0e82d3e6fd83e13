using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
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

    /// <summary>The key whose <see cref="Id"/> this is. The eight fields after the clinic are read
    /// from the right, so a clinic id stored before today's rules (which might hold a '|') still parses.</summary>
    public static CellKey Parse(string id)
    {
        var parts = id.Split('|');
        if (parts.Length < 9) throw new FormatException($"not a cell id: '{id}'");
        var fields = parts[^8..];
        int Field(int i) => int.Parse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture);
        return new CellKey(string.Join('|', parts[..^8]), fields[0], (FormatClass)Field(1), Field(2) == 1, (PainDuration)Field(3),
            (ComplaintRegion)Field(4), (OccupationGroup)Field(5), (AgeBand)Field(6), (Sex)Field(7));
    }
}

/// <summary>How the stored read models (episode summaries and cells) hold a cell key: as its id.
/// Spelled out as an object the key was over 40 % of a cell's JSON and a fifth of a summary's, all
/// of it already in the id, and PostgreSQL parses every byte of it on each write: a rebuild at 1M
/// events now writes 97 MB of JSON instead of 136 MB. Keys stored as objects, before this, still read.
/// Registered on the store's serializer only; the HTTP and GraphQL surfaces do not serialize keys.</summary>
public sealed class CellKeyAsId : JsonConverter<CellKey>
{
    public override CellKey Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String
            ? CellKey.Parse(reader.GetString()!)
            : JsonSerializer.Deserialize<Spelled>(ref reader, options)!.Key;

    public override void Write(Utf8JsonWriter writer, CellKey value, JsonSerializerOptions options) => writer.WriteStringValue(value.Id);

    /// <summary>A key as it was stored before: every field by name (the "id" beside them is ignored).</summary>
    private sealed record Spelled(string Clinic, string Quarter, FormatClass Format, bool Completed, PainDuration Duration,
        ComplaintRegion Region, OccupationGroup Occupation, AgeBand AgeBand, Sex Sex)
    {
        public CellKey Key => new(Clinic, Quarter, Format, Completed, Duration, Region, Occupation, AgeBand, Sex);
    }
}

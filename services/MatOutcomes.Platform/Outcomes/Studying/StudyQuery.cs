using System.Globalization;
using System.Text.Json.Serialization;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>Which episodes a study looks at and how it defines its cohorts and responders. Null
/// lists mean "all". Periods run in whole quarters (fromMonth 01/04/07/10, toMonth 03/06/09/12):
/// a month-by-month period would let two overlapping studies isolate one small month.</summary>
public sealed record StudyQuery
{
    public IReadOnlyList<ComplaintRegion>? Regions { get; init; }
    public IReadOnlyList<OccupationGroup>? Occupations { get; init; }
    public IReadOnlyList<AgeBand>? AgeBands { get; init; }
    public IReadOnlyList<Sex>? Sexes { get; init; }
    public IReadOnlyList<string>? Clinics { get; init; }
    public IReadOnlyList<FormatClass>? Formats { get; init; }
    /// <summary>First month of episode start, yyyy-MM.</summary>
    public string? FromMonth { get; init; }
    /// <summary>Last month of episode start, yyyy-MM.</summary>
    public string? ToMonth { get; init; }
    /// <summary>Include episodes still in care (interim outcomes). Research releases publish
    /// discharged episodes only, so true is refused (see <see cref="Validate"/>).</summary>
    public bool IncludeActive { get; init; }
    /// <summary>Chronic = pain for at least this many weeks at episode start; early = below it.</summary>
    public int ChronicFromWeeks { get; init; } = 12;
    public int NprsMcidPoints { get; init; } = 2;
    public double NprsMcidPercent { get; init; } = 30;
    public int NdiMcid { get; init; } = 8;
    public int OdiMcid { get; init; } = 10;

    public bool IsEarly(PainDuration band) => PainDurations.IsEarly(band, ChronicFromWeeks);

    [JsonIgnore]
    public NprsRule NprsRule => new(NprsMcidPoints, NprsMcidPercent);

    public bool NprsResponder(int baseline, int latest) => NprsRule.Improved(baseline, latest);

    public IReadOnlyList<FieldError> Validate()
    {
        var errors = new List<FieldError>();
        if (!PainDurations.Thresholds.Contains(ChronicFromWeeks))
            errors.Add(new("chronicFromWeeks", "allowed-values", $"must be one of: {string.Join(", ", PainDurations.Thresholds)}"));
        Month("fromMonth", FromMonth, [1, 4, 7, 10], "the first month of a quarter");
        Month("toMonth", ToMonth, [3, 6, 9, 12], "the last month of a quarter");
        if (FromMonth is not null && ToMonth is not null && string.CompareOrdinal(FromMonth, ToMonth) > 0)
            errors.Add(new("toMonth", "range", "must not be before fromMonth"));
        if (IncludeActive)
            errors.Add(new("includeActive", "not-published",
                "research figures cover discharged episodes only: interim outcomes of patients still in care are not published " +
                "(they would let a study with them and one without be subtracted to reveal the few in care)"));
        if (NprsMcidPoints is < 1 or > 10) errors.Add(new("nprsMcidPoints", "range", "must be between 1 and 10"));
        if (NprsMcidPercent is < 0 or > 100) errors.Add(new("nprsMcidPercent", "range", "must be between 0 and 100"));
        if (NdiMcid is < 1 or > 50) errors.Add(new("ndiMcid", "range", "must be between 1 and 50"));
        if (OdiMcid is < 1 or > 100) errors.Add(new("odiMcid", "range", "must be between 1 and 100"));
        errors.AddRange(Identifiers.ClinicIds("clinics", Clinics));
        return errors;

        void Month(string field, string? value, int[] allowed, string rule)
        {
            if (value is null) return;
            if (!DateOnly.TryParseExact(value + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month))
                errors.Add(new(field, "month", "must be a month in the form yyyy-MM"));
            else if (!allowed.Contains(month.Month))
                errors.Add(new(field, "quarter", $"must be {rule}"));
        }
    }

    /// <summary>The dimensions this query restricts: what suppression must look at, and what a
    /// table must keep to answer it.</summary>
    /// <summary>The filter as it is answered: a selection of a pooled category selects its whole
    /// pool (see <see cref="Pooling"/>), and results state this filter, never the one asked.</summary>
    [JsonIgnore]
    public StudyQuery Effective => Sexes is { } sexes ? this with { Sexes = Pooling.Expand(sexes) } : this;

    [JsonIgnore]
    public Dimension Restricted =>
        (Regions is null ? 0 : Dimension.Region) | (Occupations is null ? 0 : Dimension.Occupation) |
        (AgeBands is null ? 0 : Dimension.AgeBand) | (Sexes is null ? 0 : Dimension.Sex) |
        (Clinics is null ? 0 : Dimension.Clinic) | (Formats is null ? 0 : Dimension.Format) |
        (FromMonth is null && ToMonth is null ? 0 : Dimension.Quarter);
}

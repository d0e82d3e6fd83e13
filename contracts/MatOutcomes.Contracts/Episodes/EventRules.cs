namespace MatOutcomes.Contracts.Episodes;

/// <summary>Rules every event must meet on its own, whatever its episode holds: instrument
/// ranges, plausible dates and the pseudonym format.</summary>
public static class EventRules
{
    /// <summary>Dates are the clinic's local dates; a day of tolerance covers time zones and
    /// device clocks that run a little ahead.</summary>
    public const int ClockSkewDays = 1;

    public static readonly DateOnly EarliestDate = new(2000, 1, 1);

    public static IEnumerable<FieldError> Check(object @event, string path, DateOnly today) => @event switch
    {
        EpisodeOpened e => Opening(path, today, e.OpenedOn, e.PainOnsetDate, e.PainDurationWeeks,
                e.BaselineNprs, e.BaselineNdi, e.BaselineOdi)
            .Concat(Pseudonym($"{path}.patientPseudonym", e.PatientPseudonym, PseudonymKind.Patient)),
        EpisodeOpeningCorrected e => Opening(path, today, e.OpenedOn, e.PainOnsetDate, e.PainDurationWeeks,
            e.BaselineNprs, e.BaselineNdi, e.BaselineOdi),
        SessionRecorded e => Session(path, today, e),
        OutcomeMeasured e => Date($"{path}.measuredOn", e.MeasuredOn, today)
            .Concat(Score($"{path}.score", e.Instrument, e.Score)),
        EpisodeDischarged e => Date($"{path}.dischargedOn", e.DischargedOn, today),
        FollowUpRecorded e => Date($"{path}.recordedOn", e.RecordedOn, today)
            .Concat(Range($"{path}.weeksAfterDischarge", e.WeeksAfterDischarge, 1, 260))
            .Concat(Range($"{path}.nprs", e.Nprs, 0, 10)),
        EntryVoided => [],
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "not an episode event"),
    };

    public static IEnumerable<FieldError> Score(string path, Instrument instrument, double score) => instrument switch
    {
        Instrument.Nprs => WholeInRange(path, score, 0, 10),
        Instrument.Ndi => WholeInRange(path, score, 0, 50),
        Instrument.Odi => RealInRange(path, score, 0, 100),
        Instrument.Psfs => RealInRange(path, score, 0, 10),
        Instrument.GlobalRatingOfChange => WholeInRange(path, score, -7, 7),
        _ => throw new ArgumentOutOfRangeException(nameof(instrument)),
    };

    private static IEnumerable<FieldError> Opening(string path, DateOnly today, DateOnly openedOn,
        DateOnly? onset, int? durationWeeks, int nprs, int? ndi, double? odi)
    {
        foreach (var e in Date($"{path}.openedOn", openedOn, today)) yield return e;

        if (onset is null == durationWeeks is null)
            yield return new($"{path}.painOnsetDate", "exactly-one-of",
                "give exactly one of painOnsetDate and painDurationWeeks");
        if (onset is { } o)
        {
            if (o > openedOn)
                yield return new($"{path}.painOnsetDate", "not-after-opening", "must not be after openedOn");
            if (o < openedOn.AddYears(-60))
                yield return new($"{path}.painOnsetDate", "range", "must be within 60 years before openedOn");
        }
        if (durationWeeks is { } w)
            foreach (var e in Range($"{path}.painDurationWeeks", w, 0, 3120)) yield return e;

        foreach (var e in Range($"{path}.baselineNprs", nprs, 0, 10)) yield return e;
        if (ndi is { } n)
            foreach (var e in Range($"{path}.baselineNdi", n, 0, 50)) yield return e;
        if (odi is { } d)
            foreach (var e in RealInRange($"{path}.baselineOdi", d, 0, 100)) yield return e;
    }

    private static IEnumerable<FieldError> Session(string path, DateOnly today, SessionRecorded e)
    {
        foreach (var x in Date($"{path}.sessionDate", e.SessionDate, today)) yield return x;
        foreach (var x in Pseudonym($"{path}.practitionerPseudonym", e.PractitionerPseudonym, PseudonymKind.Practitioner)) yield return x;
        foreach (var x in Distinct($"{path}.techniques", e.Techniques, 1)) yield return x;
        foreach (var x in Distinct($"{path}.regionsTreated", e.RegionsTreated, 1)) yield return x;
        foreach (var x in Range($"{path}.minutes", e.Minutes, 5, 180)) yield return x;
        foreach (var x in Range($"{path}.nprsBefore", e.NprsBefore, 0, 10)) yield return x;
        foreach (var x in Range($"{path}.nprsAfter", e.NprsAfter, 0, 10)) yield return x;
    }

    // Only the keyed-hash token passes: a code a person could read or type (a name, a birth date,
    // a record number) has no place in an append-only log.
    private static IEnumerable<FieldError> Pseudonym(string path, string value, PseudonymKind kind)
    {
        if (Pseudonyms.Rule(path, value, kind) is { } error) yield return error;
    }

    private static IEnumerable<FieldError> Date(string path, DateOnly date, DateOnly today)
    {
        if (date > today.AddDays(ClockSkewDays))
            yield return new(path, "not-in-future", $"must not be later than {today.AddDays(ClockSkewDays):yyyy-MM-dd}");
        if (date < EarliestDate)
            yield return new(path, "range", $"must not be before {EarliestDate:yyyy-MM-dd}");
    }

    private static IEnumerable<FieldError> Distinct<T>(string path, IReadOnlyList<T> items, int min)
    {
        if (items.Count < min)
            yield return new(path, "min-items", $"must hold at least {min} item");
        if (items.Distinct().Count() != items.Count)
            yield return new(path, "unique-items", "must not repeat an item");
    }

    public static IEnumerable<FieldError> Range(string path, int value, int min, int max)
    {
        if (value < min || value > max)
            yield return new(path, "range", $"must be between {min} and {max}");
    }

    private static IEnumerable<FieldError> WholeInRange(string path, double value, int min, int max)
    {
        if (value != Math.Floor(value))
            yield return new(path, "integer", "must be a whole number for this instrument");
        else if (value < min || value > max)
            yield return new(path, "range", $"must be between {min} and {max} for this instrument");
    }

    private static IEnumerable<FieldError> RealInRange(string path, double value, double min, double max)
    {
        if (value < min || value > max)
            yield return new(path, "range", $"must be between {min} and {max}");
    }
}

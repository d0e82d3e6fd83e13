namespace MatOutcomes.Contracts.Episodes;

// Version 1 of the episode-of-care events. Their stored and wire names live in EventTypes and
// never change; a change of meaning is a new record with a new name (".v2"), never an edit here.

/// <summary>An episode of care starts. Pain duration is given either as an onset date or as
/// whole weeks; the episode's cohort (acute, subacute, chronic) is derived from it.</summary>
public sealed record EpisodeOpened(
    string PatientPseudonym,
    DateOnly OpenedOn,
    ComplaintRegion Region,
    DateOnly? PainOnsetDate,
    int? PainDurationWeeks,
    OccupationGroup Occupation,
    AgeBand AgeBand,
    Sex Sex,
    int BaselineNprs,
    int? BaselineNdi,
    double? BaselineOdi);

public sealed record SessionRecorded(
    DateOnly SessionDate,
    string PractitionerPseudonym,
    SessionFormat Format,
    IReadOnlyList<Technique> Techniques,
    IReadOnlyList<ComplaintRegion> RegionsTreated,
    int Minutes,
    int NprsBefore,
    int NprsAfter);

public sealed record OutcomeMeasured(DateOnly MeasuredOn, Instrument Instrument, double Score);

public sealed record EpisodeDischarged(DateOnly DischargedOn, DischargeReason Reason);

public sealed record FollowUpRecorded(DateOnly RecordedOn, int WeeksAfterDischarge, int Nprs);

/// <summary>Correction: an earlier session, outcome, discharge or follow-up of this episode was
/// wrong and no longer counts. Re-record the right values as a new event if there are any.</summary>
public sealed record EntryVoided(Guid VoidedEventId, VoidReason Reason);

/// <summary>Correction: the intake facts of the episode, restated in full. The pseudonym cannot
/// be corrected: an episode opened for the wrong patient is discharged as entered in error.</summary>
public sealed record EpisodeOpeningCorrected(
    DateOnly OpenedOn,
    ComplaintRegion Region,
    DateOnly? PainOnsetDate,
    int? PainDurationWeeks,
    OccupationGroup Occupation,
    AgeBand AgeBand,
    Sex Sex,
    int BaselineNprs,
    int? BaselineNdi,
    double? BaselineOdi);

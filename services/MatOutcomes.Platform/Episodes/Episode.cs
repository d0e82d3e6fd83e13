using MatOutcomes.Contracts.Episodes;

namespace MatOutcomes.Platform.Episodes;

/// <summary>Pain duration at the start of the episode, in the bands the studies use.
/// IASP / ICD-11: chronic is 3 months (12 weeks) or more; acute is under 6 weeks.</summary>
public enum Cohort { Acute, Subacute, Chronic }

public enum EpisodeStatus { Active, Discharged, EnteredInError }

public sealed record SessionEntry(Guid EventId, int Position, DateOnly Date, SessionFormat Format, int Minutes, int NprsBefore, int NprsAfter);

public sealed record OutcomeEntry(Guid EventId, int Position, DateOnly Date, Instrument Instrument, double Score);

public sealed record FollowUpEntry(Guid EventId, int Position, DateOnly Date, int WeeksAfterDischarge, int Nprs);

public sealed record DischargeEntry(Guid EventId, int Position, DateOnly Date, DischargeReason Reason);

public sealed record Intake(
    DateOnly OpenedOn,
    ComplaintRegion Region,
    int PainDurationWeeks,
    OccupationGroup Occupation,
    AgeBand AgeBand,
    Sex Sex,
    int BaselineNprs,
    int? BaselineNdi,
    double? BaselineOdi)
{
    public Cohort Cohort => CohortOf(PainDurationWeeks);

    public static Cohort CohortOf(int weeks) => weeks switch
    {
        < 6 => Cohort.Acute,
        < 12 => Cohort.Subacute,
        _ => Cohort.Chronic,
    };

    public static Intake From(DateOnly openedOn, ComplaintRegion region, DateOnly? onset, int? weeks,
        OccupationGroup occupation, AgeBand ageBand, Sex sex, int nprs, int? ndi, double? odi) =>
        new(openedOn, region, weeks ?? (openedOn.DayNumber - onset!.Value.DayNumber) / 7,
            occupation, ageBand, sex, nprs, ndi, odi);
}

/// <summary>An episode of care as its events say it is now: the state the sync rules decide on
/// and the clinic's per-episode read model. Voided entries are gone from it.</summary>
public sealed record Episode(
    Guid Id,
    string PatientPseudonym,
    Intake Intake,
    int Version,
    IReadOnlyList<SessionEntry> Sessions,
    IReadOnlyList<OutcomeEntry> Outcomes,
    IReadOnlyList<FollowUpEntry> FollowUps,
    DischargeEntry? Discharge,
    IReadOnlyList<Guid> VoidedEventIds)
{
    public Cohort Cohort => Intake.Cohort;

    public EpisodeStatus Status => Discharge switch
    {
        null => EpisodeStatus.Active,
        { Reason: DischargeReason.EnteredInError } => EpisodeStatus.EnteredInError,
        _ => EpisodeStatus.Discharged,
    };

    public int SessionCount => Sessions.Count;

    public DateOnly? LastSessionDate => Sessions.Count == 0 ? null : Sessions.Max(s => s.Date);

    /// <summary>Mean within-session NPRS drop (before minus after).</summary>
    public double? MeanImmediateRelief => Sessions.Count == 0 ? null : Sessions.Average(s => s.NprsBefore - s.NprsAfter);

    /// <summary>The most recent NPRS after baseline: a pre-session score, an NPRS outcome
    /// measure or a follow-up, whichever is latest (by date, then by position).</summary>
    public int? LatestNprs => Sessions.Select(s => (s.Date, s.Position, Score: (double)s.NprsBefore))
        .Concat(Outcomes.Where(o => o.Instrument == Instrument.Nprs).Select(o => (o.Date, o.Position, o.Score)))
        .Concat(FollowUps.Select(f => (f.Date, f.Position, Score: (double)f.Nprs)))
        .OrderBy(x => x.Date).ThenBy(x => x.Position)
        .Select(x => (int?)(int)x.Score).LastOrDefault();

    /// <summary>Baseline NPRS minus the latest NPRS: positive means less pain.</summary>
    public int? DurableNprsChange => LatestNprs is { } latest ? Intake.BaselineNprs - latest : null;

    public double? LatestScore(Instrument instrument) => Outcomes.Where(o => o.Instrument == instrument)
        .OrderBy(o => o.Date).ThenBy(o => o.Position).Select(o => (double?)o.Score).LastOrDefault();

    public bool Holds(Guid eventId) =>
        Sessions.Any(s => s.EventId == eventId) || Outcomes.Any(o => o.EventId == eventId) ||
        FollowUps.Any(f => f.EventId == eventId) || Discharge?.EventId == eventId;

    /// <summary>Folds one stored event into the episode. Pure: replaying a stream gives the same
    /// episode every time.</summary>
    public static Episode? Fold(Episode? episode, Guid episodeId, Guid eventId, int position, object @event) =>
        (episode, @event) switch
        {
            (null, EpisodeOpened e) => new Episode(episodeId, e.PatientPseudonym,
                Intake.From(e.OpenedOn, e.Region, e.PainOnsetDate, e.PainDurationWeeks, e.Occupation, e.AgeBand, e.Sex,
                    e.BaselineNprs, e.BaselineNdi, e.BaselineOdi),
                position, [], [], [], null, []),
            (null, _) => null,
            (_, EpisodeOpeningCorrected e) => episode with
            {
                Intake = Intake.From(e.OpenedOn, e.Region, e.PainOnsetDate, e.PainDurationWeeks, e.Occupation, e.AgeBand,
                    e.Sex, e.BaselineNprs, e.BaselineNdi, e.BaselineOdi),
                Version = position,
            },
            (_, SessionRecorded e) => episode with
            {
                Sessions = [.. episode.Sessions, new SessionEntry(eventId, position, e.SessionDate, e.Format, e.Minutes, e.NprsBefore, e.NprsAfter)],
                Version = position,
            },
            (_, OutcomeMeasured e) => episode with
            {
                Outcomes = [.. episode.Outcomes, new OutcomeEntry(eventId, position, e.MeasuredOn, e.Instrument, e.Score)],
                Version = position,
            },
            (_, FollowUpRecorded e) => episode with
            {
                FollowUps = [.. episode.FollowUps, new FollowUpEntry(eventId, position, e.RecordedOn, e.WeeksAfterDischarge, e.Nprs)],
                Version = position,
            },
            (_, EpisodeDischarged e) => episode with
            {
                Discharge = new DischargeEntry(eventId, position, e.DischargedOn, e.Reason),
                Version = position,
            },
            (_, EntryVoided e) => episode with
            {
                Sessions = [.. episode.Sessions.Where(s => s.EventId != e.VoidedEventId)],
                Outcomes = [.. episode.Outcomes.Where(o => o.EventId != e.VoidedEventId)],
                FollowUps = [.. episode.FollowUps.Where(f => f.EventId != e.VoidedEventId)],
                Discharge = episode.Discharge?.EventId == e.VoidedEventId ? null : episode.Discharge,
                VoidedEventIds = [.. episode.VoidedEventIds, e.VoidedEventId],
                Version = position,
            },
            _ => episode with { Version = position },
        };
}

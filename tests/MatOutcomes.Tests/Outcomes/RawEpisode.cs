using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Simulator.Network;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>One episode's outcome figures computed straight from the events the simulator made,
/// by a plain loop written apart from the platform's fold and ledger: the independent side of the
/// statistics tests.</summary>
public sealed record RawEpisode(
    string Clinic, int Weeks, ComplaintRegion Region, OccupationGroup Occupation, AgeBand Age, Sex Sex,
    bool Completed, int Baseline, int? Latest, double? MeanRelief, int? NdiChange, double? OdiChange,
    int Sessions, int? SessionsToMcid, bool FollowedUp, bool Relapsed, string StartMonth, bool StandaloneMajority)
{
    public int? Change => Latest is { } l ? Baseline - l : null;

    /// <summary>In research releases: discharged, and started before the quarter that is open now
    /// (a release publishes closed quarters only).</summary>
    public bool Published => Completed &&
        Platform.Outcomes.Projecting.Quarters.Index(Platform.Outcomes.Projecting.Quarters.OfMonth(StartMonth)) <
        Platform.Outcomes.Projecting.Quarters.Index(Platform.Outcomes.Projecting.Quarters.Of(DateOnly.FromDateTime(DateTime.UtcNow)));

    public static RawEpisode? From(SimulatedEpisode episode)
    {
        var voided = episode.Events.Select(e => e.Data).OfType<EntryVoided>().Select(v => v.VoidedEventId).ToHashSet();
        var live = episode.Events.Where(e => !voided.Contains(e.Envelope.EventId)).ToList();

        var opened = (EpisodeOpened)live[0].Data;
        var intake = live.Select(e => e.Data).OfType<EpisodeOpeningCorrected>().LastOrDefault();
        var openedOn = intake?.OpenedOn ?? opened.OpenedOn;
        var onset = intake is null ? opened.PainOnsetDate : intake.PainOnsetDate;
        var duration = intake is null ? opened.PainDurationWeeks : intake.PainDurationWeeks;
        var weeks = duration ?? (openedOn.DayNumber - onset!.Value.DayNumber) / 7;
        var baseline = intake?.BaselineNprs ?? opened.BaselineNprs;
        var baselineNdi = intake is null ? opened.BaselineNdi : intake.BaselineNdi;
        var baselineOdi = intake is null ? opened.BaselineOdi : intake.BaselineOdi;

        var discharge = live.Select(e => e.Data).OfType<EpisodeDischarged>().LastOrDefault();
        if (discharge?.Reason == DischargeReason.EnteredInError) return null;

        // Every dated item with its stream position: (date, position) is time order.
        var sessions = live.Where(e => e.Data is SessionRecorded)
            .Select(e => (Session: (SessionRecorded)e.Data, e.Envelope.Position)).ToList();
        var nprs = new List<(DateOnly Date, int Position, int Score, bool FollowUp)>();
        nprs.AddRange(sessions.Select(s => (s.Session.SessionDate, s.Position, s.Session.NprsBefore, false)));
        foreach (var e in live)
        {
            if (e.Data is OutcomeMeasured { Instrument: Instrument.Nprs } o) nprs.Add((o.MeasuredOn, e.Envelope.Position, (int)o.Score, false));
            if (e.Data is FollowUpRecorded f) nprs.Add((f.RecordedOn, e.Envelope.Position, f.Nprs, true));
        }
        nprs.Sort((a, b) => a.Date != b.Date ? a.Date.CompareTo(b.Date) : a.Position.CompareTo(b.Position));

        int? sessionsToMcid = null;
        foreach (var m in nprs)
        {
            var drop = baseline - m.Score;
            if (drop >= 2 && drop >= 0.3 * baseline)
            {
                sessionsToMcid = m.FollowUp ? sessions.Count
                    : sessions.Count(s => s.Session.SessionDate < m.Date || (s.Session.SessionDate == m.Date && s.Position < m.Position));
                break;
            }
        }

        double? LatestOf(Instrument instrument) => live
            .Where(e => e.Data is OutcomeMeasured o && o.Instrument == instrument)
            .OrderBy(e => ((OutcomeMeasured)e.Data).MeasuredOn).ThenBy(e => e.Envelope.Position)
            .Select(e => (double?)((OutcomeMeasured)e.Data).Score).LastOrDefault();

        var lastFollowUp = nprs.LastOrDefault(m => m.FollowUp);
        var beforeIt = nprs.LastOrDefault(m => !m.FollowUp);
        var followedUp = lastFollowUp.FollowUp && beforeIt != default;
        var standalone = sessions.Count(s => s.Session.Format == SessionFormat.StandaloneMat);

        return new RawEpisode(
            episode.ClinicId, weeks, intake?.Region ?? opened.Region, intake?.Occupation ?? opened.Occupation,
            intake?.AgeBand ?? opened.AgeBand, intake?.Sex ?? opened.Sex,
            discharge is not null, baseline, nprs.Count > 0 ? nprs[^1].Score : null,
            sessions.Count > 0 ? sessions.Average(s => (double)(s.Session.NprsBefore - s.Session.NprsAfter)) : null,
            baselineNdi is { } bn && LatestOf(Instrument.Ndi) is { } ln ? bn - (int)ln : null,
            baselineOdi is { } bo && LatestOf(Instrument.Odi) is { } lo ? bo - lo : null,
            sessions.Count, sessionsToMcid, followedUp, followedUp && lastFollowUp.Score - beforeIt.Score >= 2,
            openedOn.ToString("yyyy-MM"), standalone * 2 > sessions.Count);
    }
}

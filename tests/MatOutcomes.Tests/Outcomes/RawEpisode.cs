using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Simulator.Network;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>One episode's outcome figures computed straight from the events the simulator made,
/// by a plain loop written apart from the platform's fold and ledger: the independent side of the
/// statistics tests.</summary>
public sealed record RawEpisode(
    string Clinic, int Weeks, ComplaintRegion Region, OccupationGroup Occupation, AgeBand Age, Sex Sex,
    bool Completed, int Baseline, int? Latest, double? MeanRelief, int? NdiChange, double? OdiChange,
    int Sessions, bool FollowedUp, bool Relapsed, string StartMonth, bool StandaloneMajority,
    IReadOnlyList<(int Score, int SessionsBefore)> Measures, int? LastInCare, int? LastFollowUp, int? FollowUpWeeks,
    FormatClass Format)
{
    public int? Change => Latest is { } l ? Baseline - l : null;
    public int? ChangeAtDischarge => LastInCare is { } l ? Baseline - l : null;
    public int? ChangeAtFollowUp => LastFollowUp is { } l ? Baseline - l : null;

    public static bool Improved(int baseline, int score, int points, double percent) =>
        baseline - score >= points && baseline - score >= percent / 100 * baseline;

    public bool Responds(int points = 2, double percent = 30) => Latest is { } l && Improved(Baseline, l, points, percent);

    /// <summary>Sessions received before the first NPRS after intake that meets the rule; null if none does.</summary>
    public int? SessionsTo(int points = 2, double percent = 30) =>
        Measures.Where(m => Improved(Baseline, m.Score, points, percent)).Select(m => (int?)m.SessionsBefore).FirstOrDefault();

    public int? SessionsToMcid => SessionsTo();

    /// <summary>In research releases: discharged, and started before the quarter that is open now
    /// (a release publishes closed quarters only).</summary>
    public bool Published => Completed &&
        Quarters.Index(Quarters.OfMonth(StartMonth)) < Quarters.Index(Quarters.Of(DateOnly.FromDateTime(DateTime.UtcNow)));

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
        var nprs = new List<(DateOnly Date, int Position, int Score, bool FollowUp, int Weeks)>();
        nprs.AddRange(sessions.Select(s => (s.Session.SessionDate, s.Position, s.Session.NprsBefore, false, 0)));
        foreach (var e in live)
        {
            if (e.Data is OutcomeMeasured { Instrument: Instrument.Nprs } o) nprs.Add((o.MeasuredOn, e.Envelope.Position, (int)o.Score, false, 0));
            if (e.Data is FollowUpRecorded f) nprs.Add((f.RecordedOn, e.Envelope.Position, f.Nprs, true, f.WeeksAfterDischarge));
        }
        nprs.Sort((a, b) => a.Date != b.Date ? a.Date.CompareTo(b.Date) : a.Position.CompareTo(b.Position));

        // Each NPRS with the sessions received before it (a follow-up comes after all of them).
        var measures = nprs.Select(m => (m.Score, m.FollowUp ? sessions.Count
            : sessions.Count(s => s.Session.SessionDate < m.Date || (s.Session.SessionDate == m.Date && s.Position < m.Position)))).ToList();

        double? LatestOf(Instrument instrument) => live
            .Where(e => e.Data is OutcomeMeasured o && o.Instrument == instrument)
            .OrderBy(e => ((OutcomeMeasured)e.Data).MeasuredOn).ThenBy(e => e.Envelope.Position)
            .Select(e => (double?)((OutcomeMeasured)e.Data).Score).LastOrDefault();

        var lastFollowUp = nprs.LastOrDefault(m => m.FollowUp);
        var beforeIt = nprs.LastOrDefault(m => !m.FollowUp);
        var followedUp = lastFollowUp.FollowUp && beforeIt != default;
        var standalone = sessions.Count(s => s.Session.Format == SessionFormat.StandaloneMat);
        // The format most of its sessions had; on a tie, its first session's.
        static FormatClass Of(SessionFormat format) => format == SessionFormat.StandaloneMat ? FormatClass.StandaloneMat : FormatClass.WithinMassage;
        var format = sessions.Count == 0 ? FormatClass.None : Math.Sign(standalone * 2 - sessions.Count) switch
        {
            > 0 => FormatClass.StandaloneMat,
            < 0 => FormatClass.WithinMassage,
            _ => Of(sessions.OrderBy(s => s.Session.SessionDate).ThenBy(s => s.Position).First().Session.Format),
        };

        return new RawEpisode(
            episode.ClinicId, weeks, intake?.Region ?? opened.Region, intake?.Occupation ?? opened.Occupation,
            intake?.AgeBand ?? opened.AgeBand, intake?.Sex ?? opened.Sex,
            discharge is not null, baseline, nprs.Count > 0 ? nprs[^1].Score : null,
            sessions.Count > 0 ? sessions.Average(s => (double)(s.Session.NprsBefore - s.Session.NprsAfter)) : null,
            baselineNdi is { } bn && LatestOf(Instrument.Ndi) is { } ln ? bn - (int)ln : null,
            baselineOdi is { } bo && LatestOf(Instrument.Odi) is { } lo ? bo - lo : null,
            sessions.Count, followedUp, followedUp && lastFollowUp.Score - beforeIt.Score >= 2,
            openedOn.ToString("yyyy-MM"), standalone * 2 > sessions.Count, measures,
            beforeIt != default ? beforeIt.Score : null, lastFollowUp.FollowUp ? lastFollowUp.Score : null,
            lastFollowUp.FollowUp ? lastFollowUp.Weeks : null, format);
    }
}

using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Episodes;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>How an episode's session format is classed: by the majority of its sessions (ties by
/// its first session); <c>None</c> until it has one.</summary>
public enum FormatClass { None, StandaloneMat, WithinMassage }

/// <summary>Pain duration bands: whole weeks below 26, then wider. Every query threshold
/// (<see cref="DurationBands.Thresholds"/>) falls on a band edge, so a study may move the
/// chronic threshold and the cells still add up exactly.</summary>
public static class DurationBands
{
    public static readonly int[] WideEdges = [26, 39, 52, 104, 260];

    /// <summary>Thresholds (weeks) a study may use between early and chronic, or acute and subacute.</summary>
    public static readonly int[] Thresholds = [6, 12, 26, 52];

    /// <summary>The lower edge of the band holding <paramref name="weeks"/>.</summary>
    public static int BandOf(int weeks) => weeks < 26 ? Math.Max(weeks, 0) : WideEdges.Last(edge => edge <= weeks);
}

/// <summary>The cell an episode's numbers are summed into: every dimension a study filters by.</summary>
public sealed record CellKey(
    string Clinic,
    int DurationBand,
    ComplaintRegion Region,
    OccupationGroup Occupation,
    AgeBand AgeBand,
    Sex Sex,
    FormatClass Format,
    string StartMonth,
    bool Completed)
{
    public string Id => $"{Clinic}|{DurationBand}|{Region}|{Occupation}|{AgeBand}|{Sex}|{Format}|{StartMonth}|{(Completed ? 1 : 0)}";
}

/// <summary>What one episode adds to its cell. Pure function of the episode: replaying its events
/// always gives the same contribution.</summary>
public sealed record Contribution(
    CellKey Key,
    int BaselineNprs,
    int? LatestNprs,
    double? MeanRelief,
    int? NdiChange,
    double? OdiChange,
    int SessionsReceived,
    int? SessionsToMcid,
    bool FollowedUp,
    bool Relapsed)
{
    /// <summary>The NPRS responder rule used for time-to-improvement: at least 2 points and at
    /// least 30% below baseline (the common NPRS MCID).</summary>
    public static bool NprsImproved(int baseline, int score) =>
        baseline - score >= 2 && (baseline - score) >= 0.3 * baseline;

    public const int RelapsePoints = 2;

    public static Contribution? Of(string clinic, Episode episode)
    {
        if (episode.Status == EpisodeStatus.EnteredInError) return null;
        var intake = episode.Intake;

        var sessions = episode.Sessions.OrderBy(s => s.Date).ThenBy(s => s.Position).ToList();
        var key = new CellKey(clinic, DurationBands.BandOf(intake.PainDurationWeeks), intake.Region, intake.Occupation,
            intake.AgeBand, intake.Sex, FormatOf(sessions), intake.OpenedOn.ToString("yyyy-MM"),
            episode.Status == EpisodeStatus.Discharged);

        // NPRS measures after baseline, in time order, each with the sessions received before it.
        var measures = sessions.Select((s, i) => (s.Date, s.Position, Score: s.NprsBefore, Before: i, FollowUp: false))
            .Concat(episode.Outcomes.Where(o => o.Instrument == Instrument.Nprs)
                .Select(o => (o.Date, o.Position, Score: (int)o.Score, Before: sessions.Count(s => s.Date < o.Date || (s.Date == o.Date && s.Position < o.Position)), FollowUp: false)))
            .Concat(episode.FollowUps.Select(f => (f.Date, f.Position, Score: f.Nprs, Before: sessions.Count, FollowUp: true)))
            .OrderBy(m => m.Date).ThenBy(m => m.Position)
            .ToList();

        int? sessionsToMcid = measures.Where(m => NprsImproved(intake.BaselineNprs, m.Score))
            .Select(m => (int?)m.Before).FirstOrDefault();

        var followUp = measures.LastOrDefault(m => m.FollowUp);
        var beforeFollowUp = measures.LastOrDefault(m => !m.FollowUp);
        var followedUp = followUp.FollowUp && beforeFollowUp != default;

        double? Change(double? baseline, Instrument instrument) =>
            baseline is { } b && episode.LatestScore(instrument) is { } latest ? b - latest : null;

        return new Contribution(
            key,
            intake.BaselineNprs,
            measures.Count > 0 ? measures[^1].Score : null,
            sessions.Count > 0 ? sessions.Average(s => s.NprsBefore - s.NprsAfter) : null,
            (int?)Change(intake.BaselineNdi, Instrument.Ndi),
            Change(intake.BaselineOdi, Instrument.Odi),
            sessions.Count,
            sessionsToMcid,
            followedUp,
            followedUp && followUp.Score - beforeFollowUp.Score >= RelapsePoints);
    }

    private static FormatClass FormatOf(IReadOnlyList<SessionEntry> sessions)
    {
        if (sessions.Count == 0) return FormatClass.None;
        var standalone = sessions.Count(s => s.Format == SessionFormat.StandaloneMat);
        var within = sessions.Count - standalone;
        return standalone > within ? FormatClass.StandaloneMat
            : within > standalone ? FormatClass.WithinMassage
            : sessions[0].Format == SessionFormat.StandaloneMat ? FormatClass.StandaloneMat : FormatClass.WithinMassage;
    }
}

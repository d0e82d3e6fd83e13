using MatOutcomes.Platform.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Dashboard.Tracking;

/// <summary>Sessions a clinic held on one day (the session's own date, as the clinic recorded it).
/// One document per clinic and day, so "today" and "this week" are a handful of point reads.</summary>
public sealed class ClinicDay
{
    /// <summary>"{clinic}:{yyyy-MM-dd}".</summary>
    public string Id { get; set; } = "";
    public string Clinic { get; set; } = "";
    public DateOnly Date { get; set; }
    public int Sessions { get; set; }

    public static string IdFor(string clinic, DateOnly date) => $"{clinic}:{date:yyyy-MM-dd}";
}

/// <summary>Pain through care in one clinic: NPRS moments at intake (point 0) and before each of the
/// first <see cref="ActivityContribution.Points"/> − 1 sessions. Additive, so the network is a sum.</summary>
public sealed class ClinicTrajectory
{
    /// <summary>The clinic id.</summary>
    public string Id { get; set; } = "";
    public List<Moments> Points { get; set; } = [];

    public void Apply(int point, int nprs, int sign)
    {
        while (Points.Count <= point) Points.Add(Moments.Zero);
        Points[point] = Points[point].Plus(nprs, sign);
    }

    public bool IsEmpty => Points.All(p => p.N == 0);
}

/// <summary>What one episode adds to its clinic's activity: sessions per date and its pain through
/// care. Pure function of the episode, so replaying its events always gives the same one.</summary>
public sealed record ActivityContribution(string Clinic, IReadOnlyList<DaySessions> Days, IReadOnlyList<int> Pain)
{
    /// <summary>Intake plus the first ten sessions: beyond that too few episodes remain to chart.</summary>
    public const int Points = 11;

    /// <summary>An episode entered in error (opened for the wrong patient) counts for nothing, as in
    /// the outcome cells: its sessions are re-recorded on the right episode.</summary>
    public static ActivityContribution? Of(string clinic, Episode? episode)
    {
        if (episode is null || episode.Status == EpisodeStatus.EnteredInError) return null;
        var sessions = episode.Sessions.OrderBy(s => s.Date).ThenBy(s => s.Position).ToList();
        var days = sessions.GroupBy(s => s.Date).OrderBy(g => g.Key).Select(g => new DaySessions(g.Key, g.Count())).ToList();
        var pain = sessions.Take(Points - 1).Select(s => s.NprsBefore).Prepend(episode.Intake.BaselineNprs).ToList();
        return new ActivityContribution(clinic, days, pain);
    }

    public bool SameAs(ActivityContribution? other) =>
        other is not null && Clinic == other.Clinic && Days.SequenceEqual(other.Days) && Pain.SequenceEqual(other.Pain);
}

public sealed record DaySessions(DateOnly Date, int Sessions);

/// <summary>The activity projection's state of an episode: what it last contributed, so the
/// contribution can be taken back when a session is voided or the intake corrected.</summary>
public sealed class ActivityEpisode
{
    /// <summary>"{clinic}:{episodeId}": the same episode id may exist in two clinics.</summary>
    public string Id { get; set; } = "";
    public Episode? Episode { get; set; }
    public ActivityContribution? Contribution { get; set; }

    public static string IdFor(string clinic, Guid episodeId) => $"{clinic}:{episodeId}";
}

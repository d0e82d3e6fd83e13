using System.Text.Json.Serialization;
using MatOutcomes.Platform.Episodes;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>Running sums of a variable: enough for its mean and variance, and additive.</summary>
public sealed record Moments(long N, double Sum, double SumOfSquares)
{
    public static readonly Moments Zero = new(0, 0, 0);
    public Moments Plus(double x, int sign) => new(N + sign, Sum + sign * x, SumOfSquares + sign * x * x);
    public static Moments operator +(Moments a, Moments b) => new(a.N + b.N, a.Sum + b.Sum, a.SumOfSquares + b.SumOfSquares);
}

/// <summary>A cell as stored: its key, its statistics and the last event sequence that changed it.
/// Cells are never deleted (an emptied cell keeps its row with no episodes), so a node following
/// the read models learns every change by asking for cells with a later <see cref="Sequence"/>.</summary>
public sealed class OutcomeCell
{
    public string Id { get; set; } = "";
    public CellKey Key { get; set; } = null!;
    public long Sequence { get; set; }
    public int Episodes { get; set; }
    public FixedMoments Relief { get; set; }
    public FixedMoments Odi { get; set; }
    public int[] Slots { get; set; } = [];
    public int[] Counts { get; set; } = [];

    [JsonIgnore]
    public CellStats Stats => new(Episodes, Relief, Odi, Slots, Counts);

    public static OutcomeCell Of(CellKey key, CellStats stats, long sequence) => new()
    {
        Id = key.Id, Key = key, Sequence = sequence, Episodes = stats.Episodes, Relief = stats.Relief, Odi = stats.Odi,
        Slots = stats.Slots, Counts = stats.Counts,
    };
}

/// <summary>The one per-episode state of the outcome read models: what the episode last contributed
/// to its outcome cell and to its clinic's activity, so both can be taken back when it changes, and
/// its episode row. Not the episode itself: the projection folds a changed episode again from its
/// own events in the log (a few rows through the streams' index), so a summary is a third of the
/// size it was (about 1 KB of JSON rather than 3.3), and cannot drift from the log.</summary>
public sealed class EpisodeSummary
{
    /// <summary>"{clinic}:{episodeId}": the same episode id may exist in two clinics.</summary>
    public string Id { get; set; } = "";
    public string Clinic { get; set; } = "";
    public Guid EpisodeId { get; set; }
    public Contribution? Contribution { get; set; }
    public ActivityContribution? Activity { get; set; }
    /// <summary>The contribution's cell id (indexed: episode rows are read per cell).</summary>
    public string? CellId { get; set; }
    public long LastSequence { get; set; }

    public static string IdFor(string clinic, Guid episodeId) => $"{clinic}:{episodeId}";
}

/// <summary>One clinic's activity for its managers: sessions per day (the clinic's own dates) and
/// NPRS moments at intake and before each of the first sessions. Integer sums, so exact and additive.</summary>
public sealed class ClinicTally
{
    /// <summary>The clinic id.</summary>
    public string Id { get; set; } = "";
    public long Sequence { get; set; }
    public Dictionary<DateOnly, int> SessionsByDay { get; set; } = [];
    /// <summary>Per point (intake, before session 1, 2, …): count, sum and sum of squares of NPRS.</summary>
    public List<long[]> Pain { get; set; } = [];

    public void Apply(ActivityContribution contribution, int sign)
    {
        foreach (var day in contribution.Days)
        {
            var sessions = SessionsByDay.GetValueOrDefault(day.Date) + sign * day.Sessions;
            if (sessions == 0) SessionsByDay.Remove(day.Date);
            else SessionsByDay[day.Date] = sessions;
        }
        for (var point = 0; point < contribution.Pain.Count; point++)
        {
            while (Pain.Count <= point) Pain.Add(new long[3]);
            var nprs = contribution.Pain[point];
            Pain[point][0] += sign;
            Pain[point][1] += sign * nprs;
            Pain[point][2] += sign * nprs * nprs;
        }
    }

    public Moments PainAt(int point) =>
        point < Pain.Count ? new Moments(Pain[point][0], Pain[point][1], Pain[point][2]) : Moments.Zero;
}

/// <summary>What one episode adds to its clinic's activity: sessions per date and its pain through
/// care. Pure function of the episode, so replaying its events always gives the same one.</summary>
public sealed record ActivityContribution(IReadOnlyList<DaySessions> Days, IReadOnlyList<int> Pain)
{
    /// <summary>Intake plus the first ten sessions: beyond that too few episodes remain to chart.</summary>
    public const int Points = 11;

    /// <summary>An episode entered in error counts for nothing, as in the outcome cells: its sessions
    /// are re-recorded on the right episode.</summary>
    public static ActivityContribution? Of(Episode? episode)
    {
        if (episode is null || episode.Status == EpisodeStatus.EnteredInError) return null;
        var sessions = episode.Sessions.OrderBy(s => s.Date).ThenBy(s => s.Position).ToList();
        var days = sessions.GroupBy(s => s.Date).OrderBy(g => g.Key).Select(g => new DaySessions(g.Key, g.Count())).ToList();
        var pain = sessions.Take(Points - 1).Select(s => s.NprsBefore).Prepend(episode.Intake.BaselineNprs).ToList();
        return new ActivityContribution(days, pain);
    }

    public bool Equals(ActivityContribution? other) =>
        other is not null && Days.SequenceEqual(other.Days) && Pain.SequenceEqual(other.Pain);

    public override int GetHashCode() => HashCode.Combine(Days.Count, Pain.Count);
}

public sealed record DaySessions(DateOnly Date, int Sessions);

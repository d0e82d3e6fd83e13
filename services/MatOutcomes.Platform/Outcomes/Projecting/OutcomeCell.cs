namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>Running sums of a variable: enough for its mean and variance, and additive.</summary>
public sealed record Moments(long N, double Sum, double SumOfSquares)
{
    public static readonly Moments Zero = new(0, 0, 0);
    public Moments Plus(double x, int sign) => new(N + sign, Sum + sign * x, SumOfSquares + sign * x * x);
    public static Moments operator +(Moments a, Moments b) => new(a.N + b.N, a.Sum + b.Sum, a.SumOfSquares + b.SumOfSquares);
}

/// <summary>Additive sufficient statistics of the episodes in one cell. Any filter is a sum of
/// cells, and every study statistic is computed exactly from the sum.</summary>
public sealed class OutcomeCell
{
    public string Id { get; set; } = "";
    public CellKey Key { get; set; } = null!;

    /// <summary>Patients (episodes) in the cell: what small-cell suppression counts.</summary>
    public int Episodes { get; set; }

    /// <summary>Counts of (baseline NPRS, latest NPRS) pairs, keyed baseline × 11 + latest. Every
    /// NPRS statistic (change, responders at any rule, regression moments) derives from it.</summary>
    public Dictionary<int, int> NprsPairs { get; set; } = [];

    /// <summary>Per-episode mean within-session relief (NPRS before − after).</summary>
    public Moments Relief { get; set; } = Moments.Zero;

    /// <summary>NDI change (baseline − latest, raw points): integer histogram, so any MCID applies.</summary>
    public Dictionary<int, int> NdiChange { get; set; } = [];

    public Moments OdiChange { get; set; } = Moments.Zero;

    /// <summary>ODI change rounded down to whole points, for responder counts at a whole-point MCID.</summary>
    public Dictionary<int, int> OdiChangeFloor { get; set; } = [];

    /// <summary>Sessions received when NPRS first reached the MCID (Kaplan–Meier events).</summary>
    public Dictionary<int, int> McidAfterSessions { get; set; } = [];

    /// <summary>Sessions received by episodes that have not reached it (censored).</summary>
    public Dictionary<int, int> CensoredAfterSessions { get; set; } = [];

    public int FollowedUp { get; set; }
    public int Relapsed { get; set; }

    public bool IsEmpty => Episodes == 0;

    /// <summary>Adds (sign +1) or removes (sign −1) one episode's contribution.</summary>
    public void Apply(Contribution c, int sign)
    {
        Episodes += sign;
        if (c.LatestNprs is { } latest) Bump(NprsPairs, c.BaselineNprs * 11 + latest, sign);
        if (c.MeanRelief is { } relief) Relief = Relief.Plus(relief, sign);
        if (c.NdiChange is { } ndi) Bump(NdiChange, ndi, sign);
        if (c.OdiChange is { } odi)
        {
            OdiChange = OdiChange.Plus(odi, sign);
            Bump(OdiChangeFloor, (int)Math.Floor(odi), sign);
        }
        if (c.SessionsToMcid is { } t) Bump(McidAfterSessions, t, sign);
        else Bump(CensoredAfterSessions, c.SessionsReceived, sign);
        if (c.FollowedUp) FollowedUp += sign;
        if (c.Relapsed) Relapsed += sign;
    }

    private static void Bump(Dictionary<int, int> histogram, int at, int by)
    {
        var value = histogram.GetValueOrDefault(at) + by;
        if (value == 0) histogram.Remove(at);
        else histogram[at] = value;
    }
}

/// <summary>The cross-clinic projection's state of an episode: what it last contributed, so the
/// contribution can leave its cell when the episode changes.</summary>
public sealed class EpisodeSummary
{
    /// <summary>"{clinic}:{episodeId}": the same episode id may exist in two clinics.</summary>
    public string Id { get; set; } = "";
    public string Clinic { get; set; } = "";
    public Guid EpisodeId { get; set; }
    public Episodes.Episode? Episode { get; set; }
    public Contribution? Contribution { get; set; }
    public long LastSequence { get; set; }

    public static string IdFor(string clinic, Guid episodeId) => $"{clinic}:{episodeId}";
}

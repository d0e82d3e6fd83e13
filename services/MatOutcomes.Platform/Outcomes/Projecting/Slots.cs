using System.Text.Json.Serialization;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>The integer histograms a cell keeps, laid out in one sparse slot space so that a cell
/// is a sorted list of (slot, count) and summing cells is adding counts. Every statistic a study
/// reports is a function of these counts (plus the fixed-point moments of the two non-integer
/// measures), so the sum of any cells gives exact statistics for their episodes.</summary>
public static class Slots
{
    /// <summary>Sessions are counted exactly up to this; an episode with more is counted here.</summary>
    public const int MaxSessions = 1023;
    public const int MaxFollowUpWeeks = 104;

    /// <summary>Baseline NPRS of every episode (0–10).</summary>
    public const int Baseline = 0;
    /// <summary>(baseline, latest NPRS after intake: pre-session, outcome measure or follow-up).</summary>
    public const int Latest = 16;
    /// <summary>(baseline, last in-care NPRS: pre-session or outcome measure, no follow-up).</summary>
    public const int Discharge = 144;
    /// <summary>(baseline, NPRS at the last follow-up after discharge).</summary>
    public const int FollowUp = 272;
    /// <summary>Weeks after discharge of that follow-up (its window).</summary>
    public const int FollowUpWeeks = 400;
    /// <summary>NDI change (baseline − latest, raw points −50..50).</summary>
    public const int NdiChange = 512;
    /// <summary>ODI change rounded down to whole points (−100..100), for responders at a whole-point MCID.</summary>
    public const int OdiChangeFloor = 640;
    /// <summary>Episodes with a follow-up NPRS and a score before it; those that rose 2+ points.</summary>
    public const int FollowedUp = 848;
    public const int Relapsed = 849;
    /// <summary>(baseline, sessions received).</summary>
    public const int Sessions = 1024;
    /// <summary>(baseline, v, reached?, sessions): for every score v below baseline, the sessions
    /// received when NPRS first fell to v or below, or the sessions received if it never did
    /// (censored). A responder rule maps baseline b to the highest score that counts as improved,
    /// so time to the MCID is exact for any rule (Kaplan–Meier at the researcher's MCID).</summary>
    public const int Reach = 16384;

    public static int BaselineOf(int b) => Baseline + b;
    public static int Pair(int family, int baseline, int score) => family + baseline * 11 + score;
    public static int SessionsOf(int baseline, int sessions) => Sessions + baseline * 1024 + Math.Min(sessions, MaxSessions);

    public static int ReachOf(int baseline, int score, bool censored, int sessions) =>
        Reach + ((baseline * 11 + score) * 2 + (censored ? 1 : 0)) * 1024 + Math.Min(sessions, MaxSessions);

    public static (int Baseline, int Score, bool Censored, int Sessions) DecodeReach(int slot)
    {
        var s = slot - Reach;
        var sessions = s % 1024;
        var rest = s / 1024;
        var censored = rest % 2 == 1;
        rest /= 2;
        return (rest / 11, rest % 11, censored, sessions);
    }

    public static (int Baseline, int Sessions) DecodeSessions(int slot) => ((slot - Sessions) / 1024, (slot - Sessions) % 1024);
}

/// <summary>Fixed-point moments of a non-integer measure (per-episode mean relief, ODI change):
/// values scaled by 2^32 and summed as integers, so a sum is exact and the same whatever the
/// order episodes were added or removed in (a replay equals the live cells bit for bit). The
/// rounding of one value is at most 1.2e-10.</summary>
public readonly record struct FixedMoments(long N, long Sum, Int128 SumOfSquares)
{
    public const double Scale = 4294967296.0;

    public static long Quantize(double value) => (long)Math.Round(value * Scale, MidpointRounding.ToEven);

    public static FixedMoments Of(long quantized) => new(1, quantized, (Int128)quantized * quantized);

    public static FixedMoments operator +(FixedMoments a, FixedMoments b) => new(a.N + b.N, a.Sum + b.Sum, a.SumOfSquares + b.SumOfSquares);
    public static FixedMoments operator -(FixedMoments a, FixedMoments b) => new(a.N - b.N, a.Sum - b.Sum, a.SumOfSquares - b.SumOfSquares);
    public FixedMoments Times(int sign) => sign >= 0 ? this : new(-N, -Sum, -SumOfSquares);

    [JsonIgnore]
    public double Mean => (double)Sum / Scale / N;
    [JsonIgnore]
    public double SumValue => Sum / Scale;
    [JsonIgnore]
    public double SumOfSquaresValue => (double)SumOfSquares / (Scale * Scale);
}

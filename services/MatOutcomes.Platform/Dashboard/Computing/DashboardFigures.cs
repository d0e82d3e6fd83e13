using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Dashboard.Computing;

/// <summary>Everything a manager's dashboard shows for one clinic, as pushed over SignalR.
/// Outcome and case-mix figures over fewer than <see cref="K"/> patients carry no numbers at all
/// (not even their N) and say <c>suppressed</c>.</summary>
public sealed record DashboardFigures(
    string Clinic,
    DateTimeOffset ComputedAt,
    long Sequence,
    int K,
    ActivityFigures Activity,
    OutcomeFigures Outcomes,
    CaseMix Mix,
    Benchmark Benchmark,
    IReadOnlyList<PainPoint> PainThroughCare,
    IReadOnlyList<CohortFigures> EarlyVersusChronic,
    ProjectionStatus Lag);

/// <summary>The clinic's own workload: sessions held and episodes in care. Plain counts with no
/// health information in them, so they are shown as they are (see the README's dashboard section).</summary>
public sealed record ActivityFigures(DateOnly Today, int SessionsToday, int SessionsThisWeek, int ActiveEpisodes,
    IReadOnlyList<DaySessions> LastDays);

/// <summary>A mean or a proportion with its 95% CI and the patients behind it; every number null when suppressed.</summary>
public sealed record Figure(double? Value, double? Lower, double? Upper, long? N, bool Suppressed)
{
    public static readonly Figure Withheld = new(null, null, null, null, true);
}

/// <summary>Outcomes over all of a group's episodes, in care and discharged (interim outcomes for
/// those in care): mean immediate relief per session, durable NPRS change, and the share of
/// responders (≥ 2 points and ≥ 30% below baseline).</summary>
public sealed record OutcomeFigures(long? Patients, Figure ImmediateRelief, Figure DurableChange, Figure Responders)
{
    public static readonly OutcomeFigures Withheld = new(null, Figure.Withheld, Figure.Withheld, Figure.Withheld);
}

/// <summary>Episodes in care by pain duration at intake: early (&lt; 12 weeks) or chronic.</summary>
public sealed record CaseMix(long? Early, long? Chronic, bool Suppressed);

/// <summary>Observed minus expected durable NPRS change, expected from a network model that knows
/// case mix (baseline, region, age, sex, occupation, early or chronic) but not the clinic.</summary>
public sealed record Benchmark(Figure ObservedMinusExpected, double? Observed, double? Expected, int NetworkClinics);

/// <summary>Mean NPRS at intake (point 0) and before session n, for the clinic and the network.</summary>
public sealed record PainPoint(int Point, string Label, Figure Clinic, Figure Network);

public sealed record CohortFigures(string Cohort, OutcomeFigures Clinic, OutcomeFigures Network);

using System.Text.Json.Serialization;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Episodes;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>What one episode adds to its cell, and what an episode row shows. A pure function of
/// the episode: replaying its events always gives the same contribution.</summary>
public sealed record Contribution(
    CellKey Key,
    int BaselineNprs,
    int? LatestNprs,
    int? DischargeNprs,
    int? FollowUpNprs,
    int? FollowUpWeeks,
    double? MeanRelief,
    int? NdiChange,
    double? OdiChange,
    int SessionsReceived,
    IReadOnlyList<int> FirstReach,
    bool FollowedUp,
    bool Relapsed)
{
    /// <summary>The default NPRS responder rule: at least 2 points and at least 30% below baseline
    /// (the common NPRS MCID). Studies may choose another.</summary>
    public static bool NprsImproved(int baseline, int score) => NprsRule.Default.Improved(baseline, score);

    public const int RelapsePoints = 2;

    /// <summary>Sessions received when NPRS first reached the default MCID; null if not (yet).</summary>
    [JsonIgnore]
    public int? SessionsToMcid => SessionsTo(NprsRule.Default);

    public int? SessionsTo(NprsRule rule) =>
        rule.HighestImproved(BaselineNprs) is var v && v >= 0 && FirstReach[v] >= 0 ? FirstReach[v] : null;

    public static Contribution? Of(string clinic, Episode episode)
    {
        if (episode.Status == EpisodeStatus.EnteredInError) return null;
        var intake = episode.Intake;

        var sessions = episode.Sessions.OrderBy(s => s.Date).ThenBy(s => s.Position).ToList();
        var key = new CellKey(clinic, Quarters.Of(intake.OpenedOn), FormatOf(sessions), episode.Status == EpisodeStatus.Discharged,
            PainDurations.Of(intake.PainDurationWeeks), intake.Region, intake.Occupation, intake.AgeBand, intake.Sex);

        // NPRS measures after baseline, in time order, each with the sessions received before it.
        var measures = new List<(DateOnly Date, int Position, int Score, int Before, FollowUpEntry? FollowUp)>();
        var before = 0;
        var inCare = episode.Outcomes.Where(o => o.Instrument == Instrument.Nprs).OrderBy(o => o.Date).ThenBy(o => o.Position).ToList();
        var next = 0;
        foreach (var s in sessions)
        {
            for (; next < inCare.Count && (inCare[next].Date, inCare[next].Position).CompareTo((s.Date, s.Position)) < 0; next++)
                measures.Add((inCare[next].Date, inCare[next].Position, (int)inCare[next].Score, before, null));
            measures.Add((s.Date, s.Position, s.NprsBefore, before, null));
            before++;
        }
        for (; next < inCare.Count; next++) measures.Add((inCare[next].Date, inCare[next].Position, (int)inCare[next].Score, before, null));
        foreach (var f in episode.FollowUps) measures.Add((f.Date, f.Position, f.Nprs, sessions.Count, f));
        measures.Sort((a, b) => (a.Date, a.Position).CompareTo((b.Date, b.Position)));

        // For every score v below baseline: sessions received when NPRS first fell to v or below (−1: never).
        var baseline = intake.BaselineNprs;
        var firstReach = new int[baseline];
        Array.Fill(firstReach, -1);
        foreach (var m in measures)
            for (var v = Math.Max(m.Score, 0); v < baseline; v++)
                if (firstReach[v] < 0) firstReach[v] = m.Before;

        var followUp = measures.LastOrDefault(m => m.FollowUp is not null);
        var lastInCare = measures.LastOrDefault(m => m.FollowUp is null);
        var hasInCare = measures.Any(m => m.FollowUp is null);
        var followedUp = followUp.FollowUp is not null && hasInCare;

        double? Change(double? start, Instrument instrument) =>
            start is { } b && episode.LatestScore(instrument) is { } latest ? b - latest : null;

        return new Contribution(
            key,
            baseline,
            measures.Count > 0 ? measures[^1].Score : null,
            hasInCare ? lastInCare.Score : null,
            followUp.FollowUp is not null ? followUp.Score : null,
            followUp.FollowUp?.WeeksAfterDischarge,
            sessions.Count > 0 ? sessions.Average(s => s.NprsBefore - s.NprsAfter) : null,
            (int?)Change(intake.BaselineNdi, Instrument.Ndi),
            Change(intake.BaselineOdi, Instrument.Odi),
            sessions.Count,
            firstReach,
            followedUp,
            followedUp && followUp.Score - lastInCare.Score >= RelapsePoints);
    }

    /// <summary>The histogram slots this episode counts in, ascending.</summary>
    public int[] Slots()
    {
        var b = BaselineNprs;
        var slots = new List<int>(16) { Projecting.Slots.BaselineOf(b) };
        if (LatestNprs is { } latest) slots.Add(Projecting.Slots.Pair(Projecting.Slots.Latest, b, latest));
        if (DischargeNprs is { } discharge) slots.Add(Projecting.Slots.Pair(Projecting.Slots.Discharge, b, discharge));
        if (FollowUpNprs is { } followUp)
        {
            slots.Add(Projecting.Slots.Pair(Projecting.Slots.FollowUp, b, followUp));
            slots.Add(Projecting.Slots.FollowUpWeeks + Math.Clamp(FollowUpWeeks ?? 0, 0, Projecting.Slots.MaxFollowUpWeeks));
        }
        if (NdiChange is { } ndi) slots.Add(Projecting.Slots.NdiChange + ndi + 50);
        if (OdiChange is { } odi) slots.Add(Projecting.Slots.OdiChangeFloor + (int)Math.Floor(odi) + 100);
        if (FollowedUp) slots.Add(Projecting.Slots.FollowedUp);
        if (Relapsed) slots.Add(Projecting.Slots.Relapsed);
        slots.Add(Projecting.Slots.SessionsOf(b, SessionsReceived));
        for (var v = 0; v < b; v++)
            slots.Add(FirstReach[v] >= 0 ? Projecting.Slots.ReachOf(b, v, false, FirstReach[v]) : Projecting.Slots.ReachOf(b, v, true, SessionsReceived));
        slots.Sort();
        return [.. slots];
    }

    [JsonIgnore]
    public FixedMoments? ReliefMoments => MeanRelief is { } r ? FixedMoments.Of(FixedMoments.Quantize(r)) : null;
    [JsonIgnore]
    public FixedMoments? OdiMoments => OdiChange is { } o ? FixedMoments.Of(FixedMoments.Quantize(o)) : null;

    public bool Equals(Contribution? other) =>
        other is not null && Key == other.Key && BaselineNprs == other.BaselineNprs && LatestNprs == other.LatestNprs &&
        DischargeNprs == other.DischargeNprs && FollowUpNprs == other.FollowUpNprs && FollowUpWeeks == other.FollowUpWeeks &&
        MeanRelief == other.MeanRelief && NdiChange == other.NdiChange && OdiChange == other.OdiChange &&
        SessionsReceived == other.SessionsReceived && FirstReach.SequenceEqual(other.FirstReach) &&
        FollowedUp == other.FollowedUp && Relapsed == other.Relapsed;

    public override int GetHashCode() => HashCode.Combine(Key, BaselineNprs, LatestNprs, SessionsReceived, MeanRelief);

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

/// <summary>An NPRS responder rule: at least <see cref="Points"/> points and at least
/// <see cref="Percent"/>% of baseline better.</summary>
public readonly record struct NprsRule(int Points, double Percent)
{
    public static readonly NprsRule Default = new(2, 30);

    public bool Improved(int baseline, int score) => baseline - score >= Points && baseline - score >= Percent / 100.0 * baseline;

    /// <summary>Whether each (baseline × 11 + score) pair counts as improved.</summary>
    public bool[] Table()
    {
        var table = new bool[121];
        for (var b = 0; b <= 10; b++)
            for (var s = 0; s <= 10; s++)
                table[b * 11 + s] = Improved(b, s);
        return table;
    }

    /// <summary>The highest score that counts as improved from <paramref name="baseline"/>; −1 if none does.</summary>
    public int HighestImproved(int baseline)
    {
        for (var v = baseline - 1; v >= 0; v--)
            if (Improved(baseline, v)) return v;
        return -1;
    }
}

using MatOutcomes.Contracts.Sync;

namespace MatOutcomes.Simulator.Network;

/// <summary>How the simulated network looks. The improvement model is explicit so a study can
/// plant a known early-versus-chronic effect and check that the platform recovers it.</summary>
public sealed record NetworkOptions
{
    public int Clinics { get; init; } = 8;
    public int Episodes { get; init; } = 3000;
    /// <summary>Share of clinics that sync only every couple of weeks, in large late batches.</summary>
    public double OfflineShare { get; init; } = 0.25;
    public int Seed { get; init; } = 42;
    public DateOnly Today { get; init; } = DateOnly.FromDateTime(DateTime.UtcNow);
    public int Months { get; init; } = 18;
    public ImprovementModel Improvement { get; init; } = new();
    /// <summary>Share of sessions entered wrongly, then voided and re-recorded.</summary>
    public double CorrectionRate { get; init; } = 0.03;
}

/// <summary>Expected share of baseline NPRS gone by the end of care, per cohort, and how fast
/// (weeks to ~63% of it). Early pain also improves on its own, so its gain is larger.</summary>
public sealed record ImprovementModel
{
    public double AcuteGain { get; init; } = 0.62;
    public double SubacuteGain { get; init; } = 0.50;
    public double ChronicGain { get; init; } = 0.36;
    public double AcuteWeeks { get; init; } = 2.5;
    public double SubacuteWeeks { get; init; } = 3.5;
    public double ChronicWeeks { get; init; } = 5.0;
    /// <summary>Spread of individual response around the cohort's gain (SD of a multiplier).</summary>
    public double ResponseSpread { get; init; } = 0.35;
    /// <summary>NPRS measurement noise (SD, points) on every score.</summary>
    public double ScoreNoise { get; init; } = 0.8;
}

public sealed record SimulatedNetwork(NetworkOptions Options, IReadOnlyList<SimulatedClinic> Clinics)
{
    public IEnumerable<SimulatedEpisode> Episodes => Clinics.SelectMany(c => c.Episodes);
    public int EventCount => Clinics.Sum(c => c.Episodes.Sum(e => e.Events.Count));
}

public sealed record SimulatedClinic(string Id, bool Offline, double StandaloneShare, IReadOnlyList<SimulatedEpisode> Episodes);

/// <summary>An episode's events as the clinic software creates them, each on the day it happens.</summary>
public sealed record SimulatedEpisode(Guid Id, string ClinicId, IReadOnlyList<TimedEvent> Events);

public sealed record TimedEvent(DateOnly Day, EventEnvelope Envelope, object Data);

using System.Security.Cryptography;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Contracts.Sync;

namespace MatOutcomes.Tests.Support;

/// <summary>Valid events with sensible defaults, and an episode that numbers its own positions.</summary>
public static class Sample
{
    public static readonly DateOnly Start = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-60);

    /// <summary>The test clinics' pseudonym secret: tests make pseudonyms as clinic software does.</summary>
    public static readonly byte[] Secret = SHA256.HashData("matoutcomes test clinics"u8);

    public static readonly string PractitionerPseudonym = Practitioner("01");

    /// <summary>The pseudonym of the clinic's own patient id <paramref name="localId"/>.</summary>
    public static string Patient(string localId) => Pseudonyms.ForPatient(Secret, localId);

    public static string Practitioner(string localId) => Pseudonyms.ForPractitioner(Secret, localId);

    /// <param name="patient">The clinic's own id for the patient, sent as its pseudonym.</param>
    public static EpisodeOpened Opened(int baselineNprs = 7, int weeks = 20, ComplaintRegion region = ComplaintRegion.LowBack,
        string patient = "0001", DateOnly? on = null) =>
        new(Patient(patient), on ?? Start, region, null, weeks, OccupationGroup.DeskStressful, AgeBand.From40To49, Sex.Female,
            baselineNprs, null, 40);

    public static SessionRecorded Session(int day = 1, int before = 6, int after = 4) =>
        new(Start.AddDays(day), PractitionerPseudonym, SessionFormat.StandaloneMat, [Technique.MuscleLengthening, Technique.FascialRelease],
            [ComplaintRegion.LowBack], 45, before, after);

    public static EpisodeDischarged Discharged(int day = 30) => new(Start.AddDays(day), DischargeReason.GoalsMet);
}

public sealed class EpisodeScript(Guid? id = null)
{
    public Guid Id { get; } = id ?? Guid.NewGuid();
    public List<EventEnvelope> Events { get; } = [];

    public EpisodeScript Add(params object[] events)
    {
        foreach (var e in events) Events.Add(EventEnvelope.For(Guid.NewGuid(), Events.Count + 1, e));
        return this;
    }

    public EpisodeUpload All() => new(Id, Events);

    /// <summary>Events from position <paramref name="from"/> (1-based) on.</summary>
    public EpisodeUpload From(int from) => new(Id, Events.Skip(from - 1).ToList());

    public PushBatch Batch() => new([All()]);
}

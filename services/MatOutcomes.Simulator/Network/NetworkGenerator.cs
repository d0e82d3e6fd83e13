using System.Security.Cryptography;
using System.Text;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Contracts.Sync;

namespace MatOutcomes.Simulator.Network;

/// <summary>Builds a plausible clinic network from a seed: the same options always give the same
/// network, event ids included.</summary>
public static class NetworkGenerator
{
    private static readonly Technique[] Techniques = Enum.GetValues<Technique>();

    public static SimulatedNetwork Generate(NetworkOptions options)
    {
        var random = new Random(options.Seed);
        var clinics = Enumerable.Range(1, options.Clinics).Select(i =>
        {
            var id = $"clinic-{i:00}";
            var secret = SecretOf(id);
            return new
            {
                Id = id,
                Offline = i <= Math.Round(options.Clinics * options.OfflineShare),
                Size = 0.5 + random.NextDouble(),
                StandaloneShare = 0.3 + 0.5 * random.NextDouble(),
                Secret = secret,
                Practitioners = Enumerable.Range(0, 2 + random.Next(5)).Select(p => Pseudonyms.ForPractitioner(secret, $"{p:00}")).ToArray(),
            };
        }).ToList();
        var totalSize = clinics.Sum(c => c.Size);

        var episodes = clinics.ToDictionary(c => c.Id, _ => new List<SimulatedEpisode>());
        var firstDay = options.Today.AddMonths(-options.Months);
        var span = options.Today.DayNumber - firstDay.DayNumber;
        for (var n = 0; n < options.Episodes; n++)
        {
            var pick = random.NextDouble() * totalSize;
            var clinic = clinics.First(c => (pick -= c.Size) <= 0 || c == clinics[^1]);
            var opened = firstDay.AddDays(random.Next(span));
            var episode = new EpisodeGenerator(random, options, clinic.Id, clinic.Secret, clinic.StandaloneShare, clinic.Practitioners, n)
                .Generate(opened);
            episodes[clinic.Id].Add(episode);
        }

        return new SimulatedNetwork(options,
            clinics.Select(c => new SimulatedClinic(c.Id, c.Offline, c.StandaloneShare, episodes[c.Id])).ToList());
    }

    /// <summary>A simulated clinic's pseudonym secret, derived from its id so that a seed always gives
    /// the same network; a real clinic draws its secret once at random and keeps it to itself.</summary>
    public static byte[] SecretOf(string clinicId) => SHA256.HashData(Encoding.UTF8.GetBytes($"matoutcomes simulator secret {clinicId}"));

    private sealed class EpisodeGenerator(Random random, NetworkOptions options, string clinicId, byte[] secret, double standaloneShare,
        string[] practitioners, int serial)
    {
        private readonly List<TimedEvent> _events = [];
        private readonly Guid _id = NewGuid(random);

        public SimulatedEpisode Generate(DateOnly opened)
        {
            var model = options.Improvement;
            var cohortDraw = random.NextDouble();
            var (cohortGain, cohortWeeks, weeks) = cohortDraw < 0.30 ? (model.AcuteGain, model.AcuteWeeks, random.Next(0, 6))
                : cohortDraw < 0.50 ? (model.SubacuteGain, model.SubacuteWeeks, random.Next(6, 12))
                : (model.ChronicGain, model.ChronicWeeks, 12 + (int)Math.Min(900, Math.Exp(Normal(3.3, 1.0))));
            var region = Pick((0.32, ComplaintRegion.Neck), (0.13, ComplaintRegion.UpperBack), (0.45, ComplaintRegion.LowBack), (0.10, ComplaintRegion.Mixed));
            var occupation = Pick((0.38, OccupationGroup.DeskStressful), (0.27, OccupationGroup.RepetitiveManual),
                (0.15, OccupationGroup.OtherActive), (0.13, OccupationGroup.NotWorking), (0.07, OccupationGroup.NotStated));
            var age = Pick((0.12, AgeBand.From18To29), (0.20, AgeBand.From30To39), (0.24, AgeBand.From40To49),
                (0.22, AgeBand.From50To59), (0.14, AgeBand.From60To69), (0.08, AgeBand.From70));
            var sex = Pick((0.56, Sex.Female), (0.42, Sex.Male), (0.01, Sex.Other), (0.01, Sex.NotStated));

            var chronic = weeks >= 12;
            var baseline = Clamp((int)Math.Round(Normal(chronic ? 6.0 : 6.6, 1.4) + (occupation == OccupationGroup.RepetitiveManual ? 0.3 : 0)), 2, 10);
            int? ndi = region is ComplaintRegion.Neck or ComplaintRegion.Mixed ? Ndi(baseline) : null;
            double? odi = region is ComplaintRegion.LowBack or ComplaintRegion.Mixed or ComplaintRegion.UpperBack ? Odi(baseline) : null;
            var byOnsetDate = random.NextDouble() < 0.5;
            var pseudonym = Pseudonyms.ForPatient(secret, $"{serial:000000}");
            var opening = new EpisodeOpened(pseudonym, opened, region,
                byOnsetDate ? opened.AddDays(-weeks * 7 - random.Next(0, 7)) : null, byOnsetDate ? null : weeks,
                occupation, age, sex, baseline, ndi, odi);
            Emit(opened, opening);

            if (random.NextDouble() < 0.005)
            {
                Emit(opened, new EpisodeDischarged(opened, DischargeReason.EnteredInError));
                return Done();
            }
            if (random.NextDouble() < 0.01)
                Emit(opened, new EpisodeOpeningCorrected(opened, region, opening.PainOnsetDate, opening.PainDurationWeeks,
                    occupation, age, sex, Clamp(baseline + (random.NextDouble() < 0.5 ? -1 : 1), 0, 10), ndi, odi));

            var gain = cohortGain * Math.Max(0, Normal(1, model.ResponseSpread));
            var sessions = chronic ? random.Next(4, 13) : random.Next(2, 9);
            var day = opened;
            var nprs = baseline;
            for (var s = 0; s < sessions; s++)
            {
                if (s > 0) day = day.AddDays(random.Next(5, 11));
                if (day > options.Today) return Done();
                var elapsedWeeks = (day.DayNumber - opened.DayNumber) / 7.0;
                var expected = baseline * (1 - gain * (1 - Math.Exp(-elapsedWeeks / cohortWeeks)));
                nprs = Clamp((int)Math.Round(expected + Normal(0, model.ScoreNoise)), 0, 10);
                var relief = Math.Max(0, (int)Math.Round(Normal(chronic ? 1.6 : 2.0, 1.0)));
                var session = Session(day, region, nprs, Clamp(nprs - relief, 0, 10));
                if (random.NextDouble() < options.CorrectionRate)
                {
                    var wrong = Emit(day, session with { NprsBefore = Clamp(10 - nprs, 0, 10) });
                    Emit(day, new EntryVoided(wrong, VoidReason.EnteredInError));
                }
                Emit(day, session);
                if (s == sessions / 2 && random.NextDouble() < 0.6)
                    Emit(day, new OutcomeMeasured(day, Instrument.Nprs, nprs));
            }

            var discharged = day.AddDays(random.Next(0, 8));
            if (discharged > options.Today) return Done();
            var lost = random.NextDouble() < 0.08;
            if (!lost)
            {
                var final = Clamp((int)Math.Round(baseline * (1 - gain) + Normal(0, model.ScoreNoise)), 0, 10);
                Emit(discharged, new OutcomeMeasured(discharged, Instrument.Nprs, final));
                if (ndi is not null) Emit(discharged, new OutcomeMeasured(discharged, Instrument.Ndi, Ndi(final)));
                if (odi is not null) Emit(discharged, new OutcomeMeasured(discharged, Instrument.Odi, Odi(final)));
                Emit(discharged, new OutcomeMeasured(discharged, Instrument.Psfs, Math.Round(Math.Clamp(10 - final + Normal(0, 1), 0, 10), 1)));
                Emit(discharged, new OutcomeMeasured(discharged, Instrument.GlobalRatingOfChange, Clamp((int)Math.Round((baseline - final) * 1.2 + Normal(0, 1)), -7, 7)));
                nprs = final;
            }
            Emit(discharged, new EpisodeDischarged(discharged, lost ? DischargeReason.LostToFollowUp
                : nprs <= 3 ? DischargeReason.GoalsMet : random.NextDouble() < 0.15 ? DischargeReason.PatientChoice : DischargeReason.PlateauReached));

            if (!lost && random.NextDouble() < 0.55 && discharged.AddDays(42) <= options.Today)
            {
                var relapse = random.NextDouble() < (chronic ? 0.30 : 0.12) ? random.Next(2, 4) : 0;
                Emit(discharged.AddDays(42), new FollowUpRecorded(discharged.AddDays(42), 6,
                    Clamp(nprs + relapse + (int)Math.Round(Normal(0, 0.6)), 0, 10)));
            }
            return Done();
        }

        private SessionRecorded Session(DateOnly day, ComplaintRegion region, int before, int after)
        {
            var standalone = random.NextDouble() < standaloneShare;
            var techniques = Techniques.Where((_, i) => i == 0 || random.NextDouble() < 0.45).ToList();
            return new SessionRecorded(day, practitioners[random.Next(practitioners.Length)],
                standalone ? SessionFormat.StandaloneMat : SessionFormat.WithinMassage, techniques,
                region == ComplaintRegion.Mixed ? [ComplaintRegion.Neck, ComplaintRegion.LowBack] : [region],
                standalone ? 45 : 20, before, after);
        }

        private int Ndi(int nprs) => Clamp((int)Math.Round(nprs * 2.4 + Normal(0, 4)), 0, 50);
        private double Odi(int nprs) => Math.Clamp(Math.Round(nprs * 6.5 + Normal(0, 7)), 0, 100);

        private Guid Emit(DateOnly day, object data)
        {
            var id = NewGuid(random);
            _events.Add(new TimedEvent(day, EventEnvelope.For(id, _events.Count + 1, data), data));
            return id;
        }

        private SimulatedEpisode Done() => new(_id, clinicId, _events);

        private T Pick<T>(params (double Weight, T Value)[] choices)
        {
            var x = random.NextDouble() * choices.Sum(c => c.Weight);
            foreach (var (weight, value) in choices)
                if ((x -= weight) <= 0) return value;
            return choices[^1].Value;
        }

        private double Normal(double mean, double sd)
        {
            // Box–Muller on the seeded generator keeps the network reproducible.
            var u = 1 - random.NextDouble();
            var v = random.NextDouble();
            return mean + sd * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
        }

        private static int Clamp(int value, int min, int max) => Math.Clamp(value, min, max);
    }

    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes);
    }
}

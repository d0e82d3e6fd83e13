using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Releasing;

/// <summary>What a figure stands on. Each figure counts its own contributors: a cohort of 40
/// episodes may hold 6 NDI changes, and the small-cell rule is about those 6, not the 40.</summary>
public enum Measure
{
    /// <summary>Every episode: counts, time to the MCID.</summary>
    Episodes,
    /// <summary>Episodes with a session: immediate relief.</summary>
    Relief,
    /// <summary>Episodes with an NPRS after intake: durable change, NPRS responders, the models.</summary>
    Latest,
    /// <summary>Episodes with an in-care NPRS: change at discharge.</summary>
    Discharge,
    /// <summary>Episodes with a follow-up NPRS: change at follow-up.</summary>
    FollowUp,
    Ndi,
    Odi,
    /// <summary>Episodes followed up after discharge with a score before it: relapse.</summary>
    Relapse,
}

public static class Measures
{
    public static readonly Measure[] All = Enum.GetValues<Measure>();
    public const int Count = 8;

    /// <summary>Writes a cell's contributors per measure into <paramref name="counts"/>.</summary>
    public static void Counts(CellStats stats, Span<long> counts)
    {
        counts[(int)Measure.Episodes] = stats.Episodes;
        counts[(int)Measure.Relief] = stats.Relief.N;
        counts[(int)Measure.Latest] = stats.CountIn(Slots.Latest, Slots.Latest + 121);
        counts[(int)Measure.Discharge] = stats.CountIn(Slots.Discharge, Slots.Discharge + 121);
        counts[(int)Measure.FollowUp] = stats.CountIn(Slots.FollowUp, Slots.FollowUp + 121);
        counts[(int)Measure.Ndi] = stats.CountIn(Slots.NdiChange, Slots.NdiChange + 101);
        counts[(int)Measure.Odi] = stats.Odi.N;
        counts[(int)Measure.Relapse] = stats.CountAt(Slots.FollowedUp);
    }

    /// <summary>An additive fingerprint of what each measure's figures are computed from: the
    /// fingerprint of a group of cells is the sum of theirs, and two groups with different
    /// statistics almost surely differ (a random 64-bit weight per histogram slot). Added to
    /// <paramref name="prints"/>, which the caller zeroes.</summary>
    public static void Fingerprints(CellStats stats, Span<ulong> prints)
    {
        for (var i = 0; i < stats.Slots.Length; i++)
        {
            var slot = stats.Slots[i];
            var weighted = (ulong)stats.Counts[i] * Weight(slot);
            prints[(int)Of(slot)] += weighted;
        }
        prints[(int)Measure.Relief] += Mix(unchecked((ulong)stats.Relief.N), unchecked((ulong)stats.Relief.Sum), unchecked((ulong)stats.Relief.SumOfSquares));
        prints[(int)Measure.Odi] += Mix(unchecked((ulong)stats.Odi.N), unchecked((ulong)stats.Odi.Sum), unchecked((ulong)stats.Odi.SumOfSquares));
        prints[(int)Measure.Episodes] += (ulong)stats.Episodes * Weight(-1);
    }

    private static Measure Of(int slot) => slot switch
    {
        < Slots.Latest => Measure.Episodes,
        < Slots.Discharge => Measure.Latest,
        < Slots.FollowUp => Measure.Discharge,
        < Slots.NdiChange => Measure.FollowUp,
        < Slots.OdiChangeFloor => Measure.Ndi,
        < Slots.FollowedUp => Measure.Odi,
        Slots.FollowedUp or Slots.Relapsed => Measure.Relapse,
        _ => Measure.Episodes,
    };

    private static ulong Weight(int slot) => SplitMix((ulong)(uint)slot * 0x9E3779B97F4A7C15UL + 0xD1B54A32D192ED03UL);

    private static ulong Mix(ulong a, ulong b, ulong c) => SplitMix(a) * 3 + SplitMix(b ^ 0x5555) * 5 + SplitMix(c ^ 0xAAAA) * 7;

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}

/// <summary>Rare categories recoded before any small-cell rule is applied: a study selecting one of a
/// pool selects the whole pool (and its answer says so), and the rule's atoms count the pool, not
/// its rare members. Sex "other" and "not stated" are each about 1% of episodes: on their own (or
/// together) they would withhold every study that splits by sex, so they are pooled with "male",
/// the next group, as statistical offices recode rare categories. Fixed, not data-driven, so a pool
/// never changes between releases (a changing pool would itself be a difference between two answers).</summary>
public static class Pooling
{
    private const Sex PoolOfSex = Sex.Male;

    public static Sex GroupOf(Sex sex) => sex is Sex.Other or Sex.NotStated ? PoolOfSex : sex;

    /// <summary>The release publishes discharged episodes of closed quarters only: interim outcomes of
    /// patients in care, and the quarter still filling, would split every study into a large part and
    /// a few (and their outcomes are not yet outcomes).</summary>
    public static bool Published(long key, int openQuarter) => PackedKey.Completed(key) && PackedKey.Quarter(key) < openQuarter;

    /// <summary>The sexes a selection covers once pools are taken whole.</summary>
    public static IReadOnlyList<Sex> Expand(IReadOnlyList<Sex> sexes) =>
        [.. Enum.GetValues<Sex>().Where(s => sexes.Any(selected => GroupOf(selected) == GroupOf(s)))];

    /// <summary>A packed key with each pooled level replaced by its pool.</summary>
    public static long Normalize(long key) =>
        PackedKey.Sex(key) is Sex.Other or Sex.NotStated ? (key & ~3L) | (long)PoolOfSex : key;
}

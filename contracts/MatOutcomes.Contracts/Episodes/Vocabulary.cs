using System.Text.Json.Serialization;

namespace MatOutcomes.Contracts.Episodes;

// Closed vocabularies. Free text is deliberately absent from the whole protocol: a free-text
// field is where a name, a birth date or a phone number would slip in.

public enum ComplaintRegion { Neck, UpperBack, LowBack, Mixed }

public enum OccupationGroup
{
    /// <summary>Desk-bound or high-stress work.</summary>
    DeskStressful,
    /// <summary>Repetitive-motion or manual work.</summary>
    RepetitiveManual,
    /// <summary>Physically active work that is neither of the above.</summary>
    OtherActive,
    NotWorking,
    NotStated,
}

public enum AgeBand
{
    [JsonStringEnumMemberName("18-29")] From18To29,
    [JsonStringEnumMemberName("30-39")] From30To39,
    [JsonStringEnumMemberName("40-49")] From40To49,
    [JsonStringEnumMemberName("50-59")] From50To59,
    [JsonStringEnumMemberName("60-69")] From60To69,
    [JsonStringEnumMemberName("70+")] From70,
}

public enum Sex { Female, Male, Other, NotStated }

/// <summary>Whether MAT was the session, or worked into a massage session.</summary>
public enum SessionFormat { StandaloneMat, WithinMassage }

/// <summary>The components of a MAT session (see the seed text): lengthening tight muscles,
/// strengthening weak ones with gentle focused stretches, and working the fascia.</summary>
public enum Technique { MuscleLengthening, StrengtheningStretches, FascialRelease, PosturalAlignment, HomeExerciseAdvice }

/// <summary>Outcome instruments and their published score ranges.</summary>
public enum Instrument
{
    /// <summary>Numeric Pain Rating Scale, integer 0–10.</summary>
    Nprs,
    /// <summary>Neck Disability Index, raw integer score 0–50.</summary>
    Ndi,
    /// <summary>Oswestry Disability Index, percent 0–100.</summary>
    Odi,
    /// <summary>Patient-Specific Functional Scale, mean item score 0–10.</summary>
    Psfs,
    /// <summary>Global Rating of Change, integer −7 (a very great deal worse) to +7.</summary>
    GlobalRatingOfChange,
}

/// <summary><c>EnteredInError</c> withdraws the whole episode from every analysis.</summary>
public enum DischargeReason { GoalsMet, PlateauReached, PatientChoice, Referred, LostToFollowUp, Other, EnteredInError }

public enum VoidReason { EnteredInError, WrongEpisode, DuplicateEntry }

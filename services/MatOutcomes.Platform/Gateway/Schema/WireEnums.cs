using GraphQL.Types;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Gateway.Schema;

/// <summary>A GraphQL enum over one of the API's vocabularies. GraphQL names may not hold '-' or
/// start with a digit, so each kebab-case wire name maps mechanically: upper case, '-' to '_',
/// '+' to '_PLUS', and a prefix before a leading digit (<c>low-back</c> → <c>LOW_BACK</c>,
/// <c>18-29</c> → <c>AGE_18_29</c>, <c>70+</c> → <c>AGE_70_PLUS</c>). Each value's description
/// names its wire name.</summary>
public abstract class WireEnumGraphType<TEnum> : EnumerationGraphType where TEnum : struct, Enum
{
    protected WireEnumGraphType(string name, string description, IReadOnlyDictionary<TEnum, string>? meanings = null,
        IEnumerable<TEnum>? values = null, string digitPrefix = "")
    {
        Name = name;
        Description = description + " Each value's wire name elsewhere in the API is its kebab-case form (see the value).";
        foreach (var value in values ?? Enum.GetValues<TEnum>())
        {
            var wire = ProtocolJson.WireName(value);
            var meaning = meanings?.GetValueOrDefault(value) is { } m ? " " + m : "";
            Add(GraphQLName(wire, digitPrefix), value, $"Wire name `{wire}`.{meaning}");
        }
    }

    public static string GraphQLName(string wire, string digitPrefix = "")
    {
        var name = wire.Replace("+", "-plus").Replace('-', '_').ToUpperInvariant();
        return char.IsDigit(name[0]) ? digitPrefix + name : name;
    }
}

public sealed class RegionGraphType() : WireEnumGraphType<ComplaintRegion>("Region",
    "Body region of the presenting complaint.");

public sealed class OccupationGroupGraphType() : WireEnumGraphType<OccupationGroup>("OccupationGroup",
    "Occupation group at episode start.", new Dictionary<OccupationGroup, string>
    {
        [OccupationGroup.DeskStressful] = "Desk-bound or high-stress work.",
        [OccupationGroup.RepetitiveManual] = "Repetitive-motion or manual work.",
        [OccupationGroup.OtherActive] = "Physically active work that is neither of the above.",
        [OccupationGroup.NotWorking] = "Not in work.",
        [OccupationGroup.NotStated] = "Not stated.",
    });

public sealed class AgeBandGraphType() : WireEnumGraphType<AgeBand>("AgeBand",
    "Age band at episode start (no birth dates are ever held).", digitPrefix: "AGE_");

public sealed class SexGraphType() : WireEnumGraphType<Sex>("Sex", "Sex as recorded at episode start.");

public sealed class SessionFormatGraphType() : WireEnumGraphType<FormatClass>("SessionFormat",
    "How an episode's sessions delivered MAT: by the majority of its sessions, ties by the first.",
    new Dictionary<FormatClass, string>
    {
        [FormatClass.StandaloneMat] = "MAT was the session.",
        [FormatClass.WithinMassage] = "MAT was worked into a massage session.",
        [FormatClass.None] = "No session recorded yet.",
    });

/// <summary>The cohorts a study compares. Early and chronic split at the study's threshold;
/// acute (under 6 weeks) and subacute (6 to 11 weeks) are fixed bands below the 12-week
/// threshold, whatever threshold a study chooses.</summary>
public enum StudyCohort { Early, Chronic, Acute, Subacute }

public sealed class StudyCohortGraphType() : WireEnumGraphType<StudyCohort>("Cohort",
    "Pain-duration cohort at episode start.", new Dictionary<StudyCohort, string>
    {
        [StudyCohort.Early] = "Pain for less than the study's chronic threshold (default 12 weeks).",
        [StudyCohort.Chronic] = "Pain for at least the study's chronic threshold (default 12 weeks, IASP / ICD-11).",
        [StudyCohort.Acute] = "Pain for less than 6 weeks.",
        [StudyCohort.Subacute] = "Pain for 6 to 11 weeks (from 6 weeks up to the 12-week chronic threshold; fixed, whatever threshold a study chooses).",
    });

public enum RowStatus { Active, Discharged }

public sealed class EpisodeStatusGraphType() : WireEnumGraphType<RowStatus>("EpisodeStatus",
    "Whether an episode of care is still open.", new Dictionary<RowStatus, string>
    {
        [RowStatus.Active] = "Still in care: outcomes are interim.",
        [RowStatus.Discharged] = "Discharged: outcomes are final (follow-ups may still arrive).",
    });

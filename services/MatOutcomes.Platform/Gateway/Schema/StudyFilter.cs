using System.Collections;
using GraphQL.Types;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Gateway.Schema;

/// <summary>The GraphQL face of <see cref="StudyQuery"/>: which episodes, where the chronic
/// threshold lies, and the MCIDs that define responders.</summary>
public sealed class StudyFilterInputGraphType : InputObjectGraphType<StudyQuery>
{
    public StudyFilterInputGraphType()
    {
        Name = "StudyFilter";
        Description = "Which episodes a study looks at and how it defines cohorts and responders. An omitted list means all values. " +
                      "Every restricted dimension makes the small-cell rule stricter: a study is answered only if each combination of " +
                      "the restricted values (by pain-duration band) holds no patient or at least k.";
        Field<ListGraphType<NonNullGraphType<RegionGraphType>>>("regions").Description("Complaint regions to include.");
        Field<ListGraphType<NonNullGraphType<OccupationGroupGraphType>>>("occupations").Description("Occupation groups to include.");
        Field<ListGraphType<NonNullGraphType<AgeBandGraphType>>>("ageBands").Description("Age bands to include.");
        Field<ListGraphType<NonNullGraphType<SexGraphType>>>("sexes").Description("Sexes to include.");
        Field<ListGraphType<NonNullGraphType<StringGraphType>>>("clinics").Description("Clinic ids to include.");
        Field<ListGraphType<NonNullGraphType<SessionFormatGraphType>>>("formats").Description("Session formats to include.");
        Field<StringGraphType>("fromMonth").Description("First month of episode start, yyyy-MM; must open a quarter (01, 04, 07, 10).");
        Field<StringGraphType>("toMonth").Description("Last month of episode start, yyyy-MM; must close a quarter (03, 06, 09, 12).");
        Field<BooleanGraphType>("includeActive").DefaultValue(false)
            .Description("Must be false: research releases publish discharged episodes of closed quarters only (interim outcomes of patients still in care are refused with a clear error).");
        Field<IntGraphType>("chronicFromWeeks").DefaultValue(12)
            .Description($"Chronic = pain for at least this many weeks at episode start; early = fewer. One of {string.Join(", ", PainDurations.Thresholds)}.");
        Field<IntGraphType>("nprsMcidPoints").DefaultValue(2).Description("NPRS responder: at least this many points of durable improvement (1-10).");
        Field<FloatGraphType>("nprsMcidPercent").DefaultValue(30.0).Description("NPRS responder: and at least this percent of baseline (0-100).");
        Field<IntGraphType>("ndiMcid").DefaultValue(8).Description("NDI responder: at least this many raw points of improvement (1-50).");
        Field<IntGraphType>("odiMcid").DefaultValue(10).Description("ODI responder: at least this many points of improvement (1-100).");
    }

    public override object ParseDictionary(IDictionary<string, object?> value)
    {
        List<T>? ListOf<T>(string name) => value.TryGetValue(name, out var v) && v is IEnumerable items ? items.Cast<T>().ToList() : null;
        T Scalar<T>(string name, T fallback) => value.TryGetValue(name, out var v) && v is not null ? (T)Convert.ChangeType(v, typeof(T), System.Globalization.CultureInfo.InvariantCulture) : fallback;
        var defaults = new StudyQuery();
        return new StudyQuery
        {
            Regions = ListOf<ComplaintRegion>("regions"),
            Occupations = ListOf<OccupationGroup>("occupations"),
            AgeBands = ListOf<AgeBand>("ageBands"),
            Sexes = ListOf<Sex>("sexes"),
            Clinics = ListOf<string>("clinics"),
            Formats = ListOf<FormatClass>("formats"),
            FromMonth = value.TryGetValue("fromMonth", out var from) ? from as string : null,
            ToMonth = value.TryGetValue("toMonth", out var to) ? to as string : null,
            IncludeActive = Scalar("includeActive", defaults.IncludeActive),
            ChronicFromWeeks = Scalar("chronicFromWeeks", defaults.ChronicFromWeeks),
            NprsMcidPoints = Scalar("nprsMcidPoints", defaults.NprsMcidPoints),
            NprsMcidPercent = Scalar("nprsMcidPercent", defaults.NprsMcidPercent),
            NdiMcid = Scalar("ndiMcid", defaults.NdiMcid),
            OdiMcid = Scalar("odiMcid", defaults.OdiMcid),
        };
    }
}

/// <summary>A study filter as stored and shown back (the output twin of <see cref="StudyFilterInputGraphType"/>).</summary>
public sealed class StudyFilterGraphType : ObjectGraphType<StudyQuery>
{
    public StudyFilterGraphType()
    {
        Name = "StudyFilterSettings";
        Description = "The filter, cohort threshold and MCIDs a study was defined with; null lists mean all values.";
        Field<ListGraphType<NonNullGraphType<RegionGraphType>>>("regions").Description("Complaint regions included.").Resolve(c => c.Source.Regions);
        Field<ListGraphType<NonNullGraphType<OccupationGroupGraphType>>>("occupations").Description("Occupation groups included.").Resolve(c => c.Source.Occupations);
        Field<ListGraphType<NonNullGraphType<AgeBandGraphType>>>("ageBands").Description("Age bands included.").Resolve(c => c.Source.AgeBands);
        Field<ListGraphType<NonNullGraphType<SexGraphType>>>("sexes").Description("Sexes included.").Resolve(c => c.Source.Sexes);
        Field<ListGraphType<NonNullGraphType<StringGraphType>>>("clinics").Description("Clinic ids included.").Resolve(c => c.Source.Clinics);
        Field<ListGraphType<NonNullGraphType<SessionFormatGraphType>>>("formats").Description("Session formats included.").Resolve(c => c.Source.Formats);
        Field(x => x.FromMonth, nullable: true).Description("First month of episode start, yyyy-MM.");
        Field(x => x.ToMonth, nullable: true).Description("Last month of episode start, yyyy-MM.");
        Field(x => x.IncludeActive).Description("Always false: releases publish discharged episodes only.");
        Field(x => x.ChronicFromWeeks).Description("Chronic threshold in weeks of pain at episode start.");
        Field(x => x.NprsMcidPoints).Description("NPRS responder points.");
        Field(x => x.NprsMcidPercent).Description("NPRS responder percent of baseline.");
        Field(x => x.NdiMcid).Description("NDI responder points.");
        Field(x => x.OdiMcid).Description("ODI responder points.");
    }
}

public static class StudyFilters
{
    /// <summary>The filter argument, validated by the same rules as the REST endpoint.</summary>
    public static StudyQuery Validated(StudyQuery? query, string argument = "filter")
    {
        query ??= new StudyQuery();
        var errors = query.Validate();
        if (errors.Count > 0) throw GatewayError.Invalid(argument, errors);
        return query;
    }
}

using GraphQL;
using GraphQL.Types;
using GraphQL.Utilities;
using MatOutcomes.Platform.Gateway.BrowsingEpisodes;
using MatOutcomes.Platform.Gateway.ComparingCohorts;
using MatOutcomes.Platform.Gateway.FollowingTrends;
using MatOutcomes.Platform.Gateway.ListingClinics;
using MatOutcomes.Platform.Gateway.SavingStudies;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;
using WithheldMeasure = MatOutcomes.Platform.Outcomes.Studying.WithheldMeasure;

namespace MatOutcomes.Platform.Gateway.Schema;

/// <summary>The researchers' schema: cross-clinic outcome read models, de-identified and
/// small-cell suppressed, plus saved study definitions.</summary>
public sealed class GatewaySchema : GraphQL.Types.Schema
{
    public GatewaySchema(IServiceProvider services, GatewayQuery query, GatewayMutation mutation) : base(services)
    {
        Description = "MatOutcomes research gateway: does treating pain early (before it becomes chronic) give better outcomes " +
                      "than treating chronic pain, for whom, and at what cost in sessions? Every figure comes from additive outcome " +
                      "cells, names the event sequence it reflects, and is withheld when it would stand on fewer than k patients.";
        Query = query;
        Mutation = mutation;
        RegisterType(new LongGraphType
        {
            Description = "A 64-bit integer: event sequences (which grow without bound), as a JSON number.",
        });
        // Introspection is answered from memory, so IDEs may load the full schema; counted at 2% so
        // aliasing it many times still runs into the budget.
        this.WithIntrospectionComplexityImpact(0.02);
    }

    /// <summary>The schema as SDL, the form committed in schema.graphql.</summary>
    public string Sdl() => this.Print(new PrintOptions { IncludeDescriptions = true, IncludeDeprecationReasons = true }).ReplaceLineEndings("\n");
}

public sealed class GatewayQuery : ObjectGraphType
{
    public GatewayQuery()
    {
        Name = "Query";
        Description = "Read the cross-clinic outcome read models.";
        Field<NonNullGraphType<ReadModelStatusGraphType>>("readModel")
            .Description("How far the outcome read models have got, and the small-cell threshold k.")
            .ResolveAsync(async context =>
            {
                var status = await context.Service<ProjectionLag>().ReadAsync(context.CancellationToken);
                return new ReadModelStatus(status.OutcomesSequence, status.HighestEventSequence, status.LagEvents, context.ReadModel().K);
            });
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<ReleaseGraphType>>>>("releases")
            .Description("The published releases, newest first. Every figure comes from a release; pass a release's `sequence` as `asOf` to ask it again.")
            .ResolveAsync(async context =>
            {
                var releases = await context.Service<Releases>().ListAsync(context.CancellationToken);
                context.Gateway().Returned(releases.Count);
                return releases.Select(r => new ReleaseSummary(r.Id, r.Sequence, r.CutAt)).ToList();
            });
        ListClinics.AddTo(this);
        CompareCohorts.AddTo(this);
        Trends.AddTo(this);
        BrowseEpisodes.AddTo(this);
        SavedStudies.AddQueriesTo(this);
    }
}

public sealed class GatewayMutation : ObjectGraphType
{
    public GatewayMutation()
    {
        Name = "Mutation";
        Description = "Save study definitions (the read models themselves are written only by clinics' event streams).";
        SavedStudies.AddMutationsTo(this);
    }
}

public sealed record ReadModelStatus(long Sequence, long HighestEventSequence, long LagEvents, int K);

public sealed class ReadModelStatusGraphType : ObjectGraphType<ReadModelStatus>
{
    public ReadModelStatusGraphType()
    {
        Name = "ReadModelStatus";
        Description = "Progress of the asynchronous outcome projection.";
        Field<NonNullGraphType<LongGraphType>>("sequence").Description("Last event sequence included in the outcome read models.").Resolve(c => c.Source.Sequence);
        Field<NonNullGraphType<LongGraphType>>("highestEventSequence").Description("Highest event sequence stored.").Resolve(c => c.Source.HighestEventSequence);
        Field<NonNullGraphType<LongGraphType>>("lagEvents").Description("Events stored but not yet in the read models.").Resolve(c => c.Source.LagEvents);
        Field(x => x.K).Description("Small-cell threshold: no figure stands on fewer than k patients.");
    }
}

public sealed class ReleaseGraphType : ObjectGraphType<ReleaseSummary>
{
    public ReleaseGraphType()
    {
        Name = "Release";
        Description = "A release: the outcome read models frozen at an event sequence. Research figures are published per release, never live.";
        Field(x => x.Number).Description("Release number, 1, 2, …");
        Field<NonNullGraphType<LongGraphType>>("sequence").Description("The last event sequence the release includes: the `asOf` that asks it again.").Resolve(c => c.Source.Sequence);
        Field<NonNullGraphType<DateTimeOffsetGraphType>>("cutAt").Description("When the release was cut.").Resolve(c => c.Source.CutAt);
    }
}

public sealed class WithheldMeasureGraphType : ObjectGraphType<WithheldMeasure>
{
    public WithheldMeasureGraphType()
    {
        Name = "WithheldMeasure";
        Description = "A measure whose figures this answer leaves out, and why. Each figure is judged on its own contributors.";
        Field<NonNullGraphType<StringGraphType>>("measure").Description("episodes, relief, latest (durable NPRS change, NPRS responders, the models), discharge, follow-up, ndi, odi or relapse.")
            .Resolve(c => MatOutcomes.Contracts.ProtocolJson.WireName(c.Source.Measure));
        Field(x => x.Reason).Description("Why: too few contributors in some combination of the restricted dimensions, or too few changed since the last release that published it.");
    }
}

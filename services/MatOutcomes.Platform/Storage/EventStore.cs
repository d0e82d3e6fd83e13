using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;
using Weasel.Core;
using Wolverine;
using Wolverine.Marten;

namespace MatOutcomes.Platform.Storage;

public static class EventStoreExtensions
{
    public const string Schema = "matoutcomes";

    /// <summary>Marten on PostgreSQL, one conjoined tenant per clinic and one stream per episode
    /// of care, with Wolverine beside it.</summary>
    public static WebApplicationBuilder AddEventStore(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PostgresServer>();

        builder.Services.AddMarten(services =>
            {
                var options = new StoreOptions();
                options.Connection(services.GetRequiredService<PostgresServer>().ConnectionString);
                options.DatabaseSchemaName = Schema;
                options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);

                options.Events.TenancyStyle = JasperFx.MultiTenancy.TenancyStyle.Conjoined;
                options.Policies.AllDocumentsAreMultiTenanted();
                options.Events.StreamIdentity = StreamIdentity.AsGuid;
                // Rich mode assigns versions and sequences before the insert, so a push knows
                // exactly which positions it took; client event ids are unique per clinic.
                options.Events.AppendMode = EventAppendMode.Rich;
                options.Events.IgnoreIndex(TenantEventIdIndex.Name);
                options.Storage.Add(new TenantEventIdIndex.Feature(Schema, options.Advanced.Migrator));
                foreach (var (name, type) in EventTypes.ByName) options.Events.MapEventType(type, name);

                options.Projections.Add<EpisodeProjection>(ProjectionLifecycle.Inline);
                options.Schema.For<Episode>().Identity(e => e.Id);

                // Cross-clinic read models: one set for the whole network, so single-tenanted.
                options.Projections.Add(new OutcomesProjection(), ProjectionLifecycle.Async, OutcomesProjection.Name, async =>
                {
                    async.DeleteViewTypeOnTeardown<OutcomeCell>();
                    async.DeleteViewTypeOnTeardown<EpisodeSummary>();
                });
                options.Schema.For<OutcomeCell>().SingleTenanted();
                options.Schema.For<EpisodeSummary>().SingleTenanted();
                return options;
            })
            .UseLightweightSessions()
            // Wolverine, not Marten's HotCold daemon, decides which process runs each projection
            // (HotCold fails with the unpatched DistributedLock this repository must use).
            .IntegrateWithWolverine(m => m.UseWolverineManagedEventSubscriptionDistribution = true)
            .ApplyAllDatabaseChangesOnStartup();

        builder.Host.UseWolverine(options =>
        {
            options.ServiceName = "matoutcomes";
            options.UseRuntimeCompilation();
            // Without it, writes through an injected session are silently dropped.
            options.Policies.AutoApplyTransactions();
            // A crashed node leaves its projection agents assigned to it until the leader finds it
            // stale: with Wolverine's defaults (heartbeat 10 s, stale after 60 s, assignments checked
            // every 30 s) read models stood still for 14-65 s after a SIGKILL. Heartbeats run on their
            // own timer and an ejected live node re-registers, so a few seconds is safe.
            options.Durability.FirstHealthCheckExecution = TimeSpan.FromMilliseconds(500);
            options.Durability.HealthCheckPollingTime = TimeSpan.FromSeconds(1);
            options.Durability.CheckAssignmentPeriod = TimeSpan.FromSeconds(1);
            options.Durability.StaleNodeTimeout = TimeSpan.FromSeconds(4);
        });
        return builder;
    }
}

using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.ServiceDefaults;
using Npgsql;
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
        builder.Services.AddHealthChecks()
            // A short connect and command timeout: readiness must answer quickly when the database is gone.
            .AddNpgSql(services => new NpgsqlConnectionStringBuilder(services.GetRequiredService<PostgresServer>().ConnectionString)
                {
                    Timeout = 2, CommandTimeout = 2, Pooling = false,
                }.ConnectionString, name: "database", tags: [Health.ReadyTag], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<ProjectionHealth>("projections", tags: [Health.ReadyTag], timeout: TimeSpan.FromSeconds(3));

        builder.Services.AddMarten(services =>
            {
                var options = new StoreOptions();
                ConfigureEvents(options, services.GetRequiredService<PostgresServer>().ConnectionString);
                return options;
            })
            .UseLightweightSessions()
            // Wolverine, not Marten's HotCold daemon, decides which process runs each projection:
            // it spreads them over the nodes, where HotCold puts them all on one (README, Storage).
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

    /// <summary>The event store itself: schema, tenancy, event types and the inline episode read
    /// model. Shared with the benchmark's loader, which appends through Marten exactly as the
    /// platform stores events.</summary>
    public static void ConfigureEvents(StoreOptions options, string connectionString)
    {
        options.Connection(connectionString);
        options.DatabaseSchemaName = Schema;
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase, json => json.Converters.Add(new CellKeyAsId()));

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
    }
}

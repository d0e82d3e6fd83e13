using DbDataReader = System.Data.Common.DbDataReader;
using Weasel.Core;
using Weasel.Core.Migrations;
using Weasel.Postgresql;

namespace MatOutcomes.Platform.Storage;

/// <summary>Event ids are unique per clinic, not store-wide. Marten's own option
/// (<c>EnableUniqueIndexOnEventId</c>) indexes <c>id</c> alone, so a clinic sending an id another
/// clinic already holds was refused, and learned from the refusal that the id exists elsewhere.
/// Keyed by (tenant, id), the database still refuses a clinic's own duplicates, while another
/// clinic's ids are simply new ids to it. Marten's migrations are told to leave this index alone;
/// this schema object creates it (and, on a database made before, Marten drops the old one).</summary>
public sealed class TenantEventIdIndex(string schema) : ISchemaObject
{
    /// <summary>As a feature of its own: Marten applies added features after the event store's
    /// tables (its extended schema objects come before them, when mt_events does not exist yet).</summary>
    public sealed class Feature(string schema, Migrator migrator) : FeatureSchemaBase("tenant-event-ids", migrator)
    {
        protected override IEnumerable<ISchemaObject> schemaObjects() => [new TenantEventIdIndex(schema)];
    }

    public const string Name = "idx_mt_events_tenant_event_id";

    public DbObjectName Identifier { get; } = new PostgresqlObjectName(schema, Name, SchemaUtils.IdentifierUsage.General);

    public void WriteCreateStatement(Migrator migrator, TextWriter writer) =>
        writer.WriteLine($"create unique index if not exists {Name} on {schema}.mt_events (tenant_id, id);");

    public void WriteDropStatement(Migrator rules, TextWriter writer) =>
        writer.WriteLine($"drop index if exists {schema}.{Name};");

    public void ConfigureQueryCommand(DbCommandBuilder builder) =>
        builder.Append($"select count(*) from pg_indexes where schemaname = '{schema}' and indexname = '{Name}';");

    public async Task<ISchemaObjectDelta> CreateDeltaAsync(DbDataReader reader, CancellationToken ct = default)
    {
        var exists = await reader.ReadAsync(ct) && reader.GetInt64(0) > 0;
        return new SchemaObjectDelta(this, exists ? SchemaPatchDifference.None : SchemaPatchDifference.Create);
    }

    public IEnumerable<DbObjectName> AllNames() => [Identifier];
}

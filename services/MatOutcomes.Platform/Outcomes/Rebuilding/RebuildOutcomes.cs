using System.Data;
using System.Diagnostics;
using System.Threading.Channels;
using JasperFx.CommandLine;
using Marten;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Storage;

namespace MatOutcomes.Platform.Outcomes.Rebuilding;

public sealed record RebuildResult(long Sequence, long Events, long Episodes, int Cells, TimeSpan Elapsed, TimeSpan Written)
{
    /// <summary>The line both ways of rebuilding print (the benchmark reads the time from it).</summary>
    public string Describe() =>
        $"Rebuilt outcomes through event {Sequence}: {Events} events, {Episodes} episodes, " +
        $"{Cells} cells in {Elapsed.TotalMilliseconds:F0} ms (the log read and every summary and cell written at {Written.TotalMilliseconds:F0} ms) " +
        $"({Events / Math.Max(Elapsed.TotalSeconds, 1e-9):F0} events/s)";
}

/// <summary>Rebuilds the outcome read models from the event log in one pass: every episode folded
/// once in episode order (not event by event through every intermediate state, as the daemon's
/// replay does), its summary streamed into PostgreSQL with COPY as it is made, each clinic's cells
/// as soon as the read has passed the clinic, then the clinic tallies and the projection's
/// progress, all in one transaction: memory holds a few clinics' cells, and a rebuild that fails
/// leaves the old read models. Equal to what the projection builds incrementally (the consistency
/// tests compare them). Run it with the platform stopped, like any rebuild: a live node would apply
/// the same events again.</summary>
public static class OutcomesRebuild
{
    public static async Task<RebuildResult> RunAsync(IDocumentStore store, CancellationToken cancellation, int cellsPerFlush = CellsPerFlush)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cellsPerFlush, 1);
        var clock = Stopwatch.StartNew();
        var serializer = store.Options.Serializer();
        var json = new System.Buffers.ArrayBufferWriter<byte>(16 * 1024);
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellation);
        var cells = new Dictionary<string, (CellKey Key, CellStats Stats)>(StringComparer.Ordinal);
        var tallies = new Dictionary<string, ClinicTally>(StringComparer.Ordinal);
        long episodes = 0, events = 0;
        var cellsWritten = 0;
        // A summary is about 1 KB of JSON, but a long episode's passes the 2 KB at which PostgreSQL
        // compresses it: the default pglz costs several times the CPU of lz4, which reads back the same.
        // The setting is the transaction's: rows the projection writes later use the server's default.
        if (await ScalarAsync("select count(*) from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)") > 0)
            await ExecuteAsync("set local default_toast_compression = 'lz4'");
        var sequence = await ScalarAsync($"select coalesce(max(seq_id), 0) from {EventStoreExtensions.Schema}.mt_events");

        // Two stages on two cores: one task reads, deserializes and folds the log on its own
        // connection while this one works out each summary, serializes it and streams it to the
        // COPY, which PostgreSQL parses on the other core.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var folded = Channel.CreateBounded<List<ReplayedEpisode>>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        var reader = Task.Run(() => ReadAsync(store, sequence, folded.Writer, stopping.Token), CancellationToken.None);
        Npgsql.NpgsqlBinaryImporter? copy = null;
        try
        {
            var summaries = Table<EpisodeSummary>();
            var copySummaries = $"copy {summaries} (id, data, mt_dotnet_type, cell_id) from stdin (format binary)";
            // Truncate, not delete: deleting 77,000 summaries cost PostgreSQL ~0.8 s of CPU per 1M
            // events and left their dead rows and TOAST for autovacuum. Rolled back with the rest on
            // failure; it locks the tables until commit, so readers wait rather than see old rows.
            await ExecuteAsync($"truncate {summaries}, {Table<OutcomeCell>()}, {Table<ClinicTally>()}");
            // The log comes clinic by clinic and a cell belongs to one clinic, so a clinic's cells are
            // final once the read has passed it: they are written then, between runs of summaries (one
            // connection runs one COPY at a time), so memory holds the cells of the clinics since the
            // last write rather than the whole network's. (It saves no time: both cores are busy.)
            copy = await BeginAsync(copySummaries);
            string? clinic = null;
            await foreach (var batch in folded.Reader.ReadAllAsync(cancellation))
                foreach (var replayed in batch)
                {
                    if (replayed.Clinic != clinic && cells.Count >= cellsPerFlush)
                    {
                        await CompleteAsync(copy);
                        copy = null;
                        await WriteCellsAsync();
                        copy = await BeginAsync(copySummaries);
                    }
                    clinic = replayed.Clinic;
                    episodes++;
                    events += replayed.Events;
                    var summary = new EpisodeSummary
                    {
                        Id = EpisodeSummary.IdFor(replayed.Clinic, replayed.EpisodeId), Clinic = replayed.Clinic, EpisodeId = replayed.EpisodeId,
                        LastSequence = replayed.LastSequence,
                    };
                    if (replayed.Episode is { } episode)
                    {
                        summary.Contribution = Contribution.Of(replayed.Clinic, episode);
                        summary.CellId = summary.Contribution?.Key.Id;
                        summary.Activity = ActivityContribution.Of(episode);
                    }
                    await WriteRowAsync(copy, summary.Id, summary, summary.CellId);

                    if (summary.Contribution is { } contribution)
                    {
                        var id = contribution.Key.Id;
                        var known = cells.TryGetValue(id, out var cell) ? cell.Stats : CellStats.Empty;
                        cells[id] = (contribution.Key, known.With(contribution, +1));
                    }
                    if (summary.Activity is { } activity)
                    {
                        if (!tallies.TryGetValue(replayed.Clinic, out var tally))
                            tallies[replayed.Clinic] = tally = new ClinicTally { Id = replayed.Clinic, Sequence = sequence };
                        tally.Apply(activity, +1);
                    }
                }
            await reader;
            await CompleteAsync(copy);
            copy = null;
            await WriteCellsAsync();
        }
        finally
        {
            // A failed write must not leave the reader blocked on a full channel, nor a COPY open.
            await stopping.CancelAsync();
            await Task.WhenAny(reader);
            if (copy is not null) await copy.DisposeAsync();
        }
        var written = clock.Elapsed;

        await using (var import = await BeginAsync($"copy {Table<ClinicTally>()} (id, data, mt_dotnet_type, sequence) from stdin (format binary)"))
        {
            foreach (var tally in tallies.Values) await WriteRowAsync(import, tally.Id, tally, sequence);
            await import.CompleteAsync(cancellation);
        }
        await ExecuteAsync(
            $"""
             insert into {EventStoreExtensions.Schema}.mt_event_progression (name, last_seq_id, last_updated) values ('{OutcomesProjection.Name}:All', {sequence}, now())
             on conflict (name) do update set last_seq_id = excluded.last_seq_id, last_updated = now()
             """);
        await transaction.CommitAsync(cancellation);
        return new RebuildResult(sequence, events, episodes, cellsWritten, clock.Elapsed, written);

        string Table<T>() => store.Options.FindOrResolveDocumentType(typeof(T)).TableName.QualifiedName;

        Task<Npgsql.NpgsqlBinaryImporter> BeginAsync(string sql) => connection.BeginBinaryImportAsync(sql, cancellation);

        async Task CompleteAsync(Npgsql.NpgsqlBinaryImporter import)
        {
            await import.CompleteAsync(cancellation);
            await import.DisposeAsync();
        }

        async Task WriteCellsAsync()
        {
            if (cells.Count == 0) return;
            await using var import = await BeginAsync($"copy {Table<OutcomeCell>()} (id, data, mt_dotnet_type, sequence) from stdin (format binary)");
            foreach (var (key, stats) in cells.Values) await WriteRowAsync(import, key.Id, OutcomeCell.Of(key, stats, sequence), sequence);
            await import.CompleteAsync(cancellation);
            cellsWritten += cells.Count;
            cells.Clear();
        }

        // The document goes in as UTF-8 straight from the serializer: a string would be built only
        // to be transcoded back to UTF-8 by Npgsql, a char chunk at a time.
        async Task WriteRowAsync<T>(Npgsql.NpgsqlBinaryImporter copy, string id, T document, object? indexed) where T : notnull
        {
            json.ResetWrittenCount();
            serializer.WriteTo(json, document);
            await copy.StartRowAsync(cancellation);
            await copy.WriteAsync(id, NpgsqlTypes.NpgsqlDbType.Varchar, cancellation);
            await copy.WriteAsync(json.WrittenMemory, NpgsqlTypes.NpgsqlDbType.Jsonb, cancellation);
            await copy.WriteAsync(typeof(T).FullName!, NpgsqlTypes.NpgsqlDbType.Varchar, cancellation);
            if (indexed is null) await copy.WriteNullAsync(cancellation);
            else if (indexed is long number) await copy.WriteAsync(number, NpgsqlTypes.NpgsqlDbType.Bigint, cancellation);
            else await copy.WriteAsync((string)indexed, NpgsqlTypes.NpgsqlDbType.Varchar, cancellation);
        }

        async Task<long> ScalarAsync(string sql)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, connection, transaction);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellation));
        }

        async Task ExecuteAsync(string sql)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellation);
        }
    }

    /// <summary>Cells are written once at least this many are final: fewer holds less in memory,
    /// but each COPY's start and end cost round trips.</summary>
    public const int CellsPerFlush = 2048;

    // Episodes cross to the writing stage in batches: a channel hand-off per episode costs more
    // than summarising it.
    private const int Batch = 64;

    private static async Task ReadAsync(IDocumentStore store, long sequence, ChannelWriter<List<ReplayedEpisode>> folded, CancellationToken cancellation)
    {
        try
        {
            var batch = new List<ReplayedEpisode>(Batch);
            await foreach (var replayed in EpisodeReplay.ReadAsync(store, sequence, cancellation))
            {
                batch.Add(replayed);
                if (batch.Count < Batch) continue;
                await folded.WriteAsync(batch, cancellation);
                batch = new List<ReplayedEpisode>(Batch);
            }
            if (batch.Count > 0) await folded.WriteAsync(batch, cancellation);
            folded.Complete();
        }
        catch (Exception e)
        {
            folded.Complete(e);
        }
    }
}

public class RebuildOutcomesInput : NetCoreInput
{
    // Long name only: -c is the host's --contentroot.
    [Description("Write the cells once at least this many are final (default 2048); fewer holds less in memory")]
    [FlagAlias("cells-per-flush", true)]
    public int CellsPerFlushFlag { get; set; } = OutcomesRebuild.CellsPerFlush;
}

[Description("Rebuilds the outcome read models from the event log in one pass (run with the platform stopped)", Name = "rebuild-outcomes")]
public class RebuildOutcomesCommand : JasperFxAsyncCommand<RebuildOutcomesInput>
{
    public override async Task<bool> Execute(RebuildOutcomesInput input)
    {
        if (input.CellsPerFlushFlag < 1)
        {
            Console.Error.WriteLine("--cells-per-flush must be at least 1");
            return false;
        }
        using var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var result = await OutcomesRebuild.RunAsync(store, CancellationToken.None, input.CellsPerFlushFlag);
        Console.WriteLine(result.Describe());
        return true;
    }
}

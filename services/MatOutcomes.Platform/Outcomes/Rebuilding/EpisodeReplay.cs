using System.Data.Common;
using Marten;
using Marten.Storage;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Episodes;
using MatOutcomes.Platform.Storage;
using Npgsql;

namespace MatOutcomes.Platform.Outcomes.Rebuilding;

/// <summary>One episode as the log holds it up to some sequence, and how many of its events were read.</summary>
public sealed record ReplayedEpisode(string Clinic, Guid EpisodeId, Episode? Episode, long LastSequence, int Events);

/// <summary>Replays the event log up to a sequence in episode order (clinic, stream, version: the
/// order of the unique index on streams, so PostgreSQL reads rather than sorts), so
/// each episode is folded whole and handed on before the next begins: memory holds one episode,
/// never the log. Rows are read straight off <c>mt_events</c> and deserialized by the store's own
/// serializer (Marten's LINQ materialisation costs several times more per event). The as-of
/// replay, the rebuild and the outcome projection (for the episodes a batch changes) all read the
/// log this way.</summary>
public static class EpisodeReplay
{
    // The columns FoldAsync reads, in its order, of mt_events aliased e.
    private const string Columns = "e.tenant_id, e.stream_id, e.version, e.seq_id, e.id, e.type, e.data";

    /// <summary>Every episode in the log, as of <paramref name="sequence"/>.</summary>
    public static async IAsyncEnumerable<ReplayedEpisode> ReadAsync(IDocumentStore store, long sequence,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"select {Columns} from {EventStoreExtensions.Schema}.mt_events e where e.seq_id <= $1 order by e.tenant_id, e.stream_id, e.version", connection)
        {
            Parameters = { new() { Value = sequence } },
        };
        await foreach (var replayed in FoldAsync(command, store.Options.Serializer(), cancellation)) yield return replayed;
    }

    /// <summary>The given episodes as of <paramref name="sequence"/>, read through the streams'
    /// index: the cost is their events, whatever the log holds. An episode with no event up to the
    /// sequence is not returned.</summary>
    public static async IAsyncEnumerable<ReplayedEpisode> ReadAsync(IMartenDatabase database, ISerializer serializer,
        IReadOnlyCollection<(string Clinic, Guid EpisodeId)> episodes, long sequence,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        if (episodes.Count == 0) yield break;
        await using var connection = database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"""
             select {Columns}
             from unnest($1::text[], $2::uuid[]) as wanted (tenant_id, stream_id)
             join {EventStoreExtensions.Schema}.mt_events e on e.tenant_id = wanted.tenant_id and e.stream_id = wanted.stream_id
             where e.seq_id <= $3
             order by e.tenant_id, e.stream_id, e.version
             """, connection)
        {
            Parameters =
            {
                new() { Value = episodes.Select(e => e.Clinic).ToArray() },
                new() { Value = episodes.Select(e => e.EpisodeId).ToArray() },
                new() { Value = sequence },
            },
        };
        await foreach (var replayed in FoldAsync(command, serializer, cancellation)) yield return replayed;
    }

    private static async IAsyncEnumerable<ReplayedEpisode> FoldAsync(NpgsqlCommand command, ISerializer serializer,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        (string Clinic, Guid Stream)? current = null;
        Episode? episode = null;
        long last = 0;
        var count = 0;
        while (await reader.ReadAsync(cancellation))
        {
            var clinic = reader.GetString(0);
            var stream = reader.GetGuid(1);
            var version = (int)reader.GetInt64(2);
            var seq = reader.GetInt64(3);
            var id = reader.GetGuid(4);
            var type = reader.GetString(5);
            if (current != (clinic, stream))
            {
                if (current is { } done) yield return new ReplayedEpisode(done.Clinic, done.Stream, episode, last, count);
                current = (clinic, stream);
                episode = null;
                last = 0;
                count = 0;
            }
            count++;
            // An event type this build does not know (written by a newer one) changes nothing here.
            if (!EventTypes.ByName.TryGetValue(type, out var eventType)) continue;
            var data = serializer.FromJson(eventType, (DbDataReader)reader, 6);
            episode = Episode.Fold(episode, stream, id, version, data);
            last = Math.Max(last, seq);
        }
        if (current is { } final) yield return new ReplayedEpisode(final.Clinic, final.Stream, episode, last, count);
    }
}

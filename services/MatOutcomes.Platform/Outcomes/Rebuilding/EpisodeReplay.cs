using Marten;
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
/// replay and the rebuild both read the log this way.</summary>
public static class EpisodeReplay
{
    public static async IAsyncEnumerable<ReplayedEpisode> ReadAsync(IDocumentStore store, long sequence,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        var serializer = store.Options.Serializer();
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"select tenant_id, stream_id, version, seq_id, id, type, data from {EventStoreExtensions.Schema}.mt_events " +
            "where seq_id <= $1 order by tenant_id, stream_id, version", connection)
        {
            Parameters = { new() { Value = sequence } },
        };
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
            var data = serializer.FromJson(eventType, reader, 6);
            episode = Episode.Fold(episode, stream, id, version, data);
            last = Math.Max(last, seq);
        }
        if (current is { } final) yield return new ReplayedEpisode(final.Clinic, final.Stream, episode, last, count);
    }
}

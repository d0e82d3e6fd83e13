using Marten;
using MatOutcomes.Platform.Episodes;

namespace MatOutcomes.Platform.Outcomes.Rebuilding;

/// <summary>One episode as the log holds it up to some sequence.</summary>
public sealed record ReplayedEpisode(string Clinic, Guid EpisodeId, Episode? Episode, long LastSequence);

/// <summary>Replays the event log up to a sequence in episode order (stream, clinic, version), so
/// each episode is folded whole and handed on before the next begins: memory holds one episode,
/// never the log. The as-of replay and the rebuild both read the log this way.</summary>
public static class EpisodeReplay
{
    public static async IAsyncEnumerable<ReplayedEpisode> ReadAsync(IQuerySession session, long sequence,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        var events = session.Events.QueryAllRawEvents()
            .Where(e => e.AnyTenant() && e.Sequence <= sequence)
            .OrderBy(e => e.StreamId).ThenBy(e => e.TenantId).ThenBy(e => e.Version)
            .ToAsyncEnumerable(cancellation);

        (string Clinic, Guid Stream)? current = null;
        Episode? episode = null;
        long last = 0;
        await foreach (var e in events)
        {
            if (current != (e.TenantId, e.StreamId))
            {
                if (current is { } done) yield return new ReplayedEpisode(done.Clinic, done.Stream, episode, last);
                current = (e.TenantId, e.StreamId);
                episode = null;
            }
            episode = Episode.Fold(episode, e.StreamId, e.Id, (int)e.Version, e.Data);
            last = Math.Max(last, e.Sequence);
        }
        if (current is { } final) yield return new ReplayedEpisode(final.Clinic, final.Stream, episode, last);
    }
}

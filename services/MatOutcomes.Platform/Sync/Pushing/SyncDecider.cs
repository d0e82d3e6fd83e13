using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Episodes;

namespace MatOutcomes.Platform.Sync.Pushing;

/// <summary>What the server holds at one position of an episode stream.</summary>
public sealed record StoredRef(int Position, Guid EventId, string Type);

/// <summary>What to do with one episode of a push.</summary>
public sealed record EpisodePlan(
    Guid EpisodeId,
    EpisodeSyncStatus Status,
    IReadOnlyList<IncomingEvent> ToAppend,
    int Duplicates,
    int StoredVersion,
    IReadOnlyList<(int Position, Guid SentEventId)> Conflicts,
    IReadOnlyList<FieldError> Errors)
{
    public int VersionAfter => StoredVersion + ToAppend.Count;
}

/// <summary>Decides a pushed episode against what the server holds. Pure: the same upload and
/// the same stored stream always give the same plan, which is what makes retries safe.</summary>
public static class SyncDecider
{
    public static EpisodePlan Decide(IncomingEpisode upload, IReadOnlyList<StoredRef> stored, Episode? episode, string path)
    {
        var storedVersion = stored.Count;
        var byPosition = stored.ToDictionary(s => s.Position);
        var storedIds = stored.ToDictionary(s => s.EventId, s => s.Position);
        var conflicts = new List<(int, Guid)>();
        var fresh = new List<(int Index, IncomingEvent Event)>();
        var duplicates = 0;

        for (var i = 0; i < upload.Events.Count; i++)
        {
            var e = upload.Events[i];
            if (byPosition.TryGetValue(e.Position, out var held))
            {
                if (held.EventId == e.EventId && held.Type == e.Type) duplicates++;
                else conflicts.Add((e.Position, e.EventId));
            }
            else if (storedIds.ContainsKey(e.EventId))
                conflicts.Add((e.Position, e.EventId));
            else
                fresh.Add((i, e));
        }

        if (conflicts.Count > 0)
            return new(upload.EpisodeId, EpisodeSyncStatus.Conflict, [], duplicates, storedVersion, conflicts, []);
        if (fresh.Count == 0)
            return new(upload.EpisodeId, EpisodeSyncStatus.Duplicate, [], duplicates, storedVersion, [], []);
        if (fresh[0].Event.Position != storedVersion + 1)
            return new(upload.EpisodeId, EpisodeSyncStatus.Gap, [], duplicates, storedVersion, [], []);

        // Each new event is checked against the episode as it will be once the ones before it
        // are in, exactly as a replay will see them.
        var errors = new List<FieldError>();
        foreach (var (index, e) in fresh)
        {
            errors.AddRange(EpisodeRules.Check(episode, e.Data, $"{path}.events[{index}]"));
            episode = Episode.Fold(episode, upload.EpisodeId, e.EventId, e.Position, e.Data);
        }

        return new(upload.EpisodeId, EpisodeSyncStatus.Appended, [.. fresh.Select(f => f.Event)], duplicates,
            storedVersion, [], errors);
    }
}

using System.Text.Json;
using MatOutcomes.Contracts.Episodes;

namespace MatOutcomes.Contracts.Sync;

public static class SyncLimits
{
    public const int MaxEpisodesPerBatch = 250;
    public const int MaxEventsPerBatch = 1000;
    public const int MaxPosition = 10_000;
    /// <summary>A full batch of the largest events is about 400 KB; anything far beyond is not a batch.</summary>
    public const long MaxBodyBytes = 2 * 1024 * 1024;
    public const int MaxPullPage = 1000;
}

/// <summary>An event that passed every stand-alone rule, typed.</summary>
public sealed record IncomingEvent(Guid EventId, int Position, string Type, object Data);

public sealed record IncomingEpisode(Guid EpisodeId, IReadOnlyList<IncomingEvent> Events);

/// <summary>Turns a push body into typed events, or into the complete list of what is wrong with
/// it. Clinic software can run the same checks before it sends.</summary>
public static class PushBatchReader
{
    private static readonly JsonSerializerOptions LenientEnvelope = new(ProtocolJson.Options) { AllowDuplicateProperties = true };

    public static (IReadOnlyList<IncomingEpisode>? Episodes, FieldErrors Errors) Read(JsonElement body, DateOnly today)
    {
        var errors = new FieldErrors();
        ContractShape.Check(body, typeof(PushBatch), "", errors);
        if (errors.Total > 0) return (null, errors);

        // Members inside each event's data are checked per event below, with their paths.
        var batch = body.Deserialize<PushBatch>(LenientEnvelope)!;
        if (batch.Episodes.Count is 0 or > SyncLimits.MaxEpisodesPerBatch)
            errors.Add(new("episodes", "item-count", $"must hold 1 to {SyncLimits.MaxEpisodesPerBatch} episodes"));
        var totalEvents = batch.Episodes.Sum(e => e.Events.Count);
        if (totalEvents > SyncLimits.MaxEventsPerBatch)
            errors.Add(new("episodes", "batch-size", $"must hold at most {SyncLimits.MaxEventsPerBatch} events in all (has {totalEvents})"));
        if (errors.Total > 0) return (null, errors);

        var episodeIds = new HashSet<Guid>();
        var eventIds = new HashSet<Guid>();
        var episodes = new List<IncomingEpisode>(batch.Episodes.Count);
        for (var i = 0; i < batch.Episodes.Count && !errors.Full; i++)
        {
            var upload = batch.Episodes[i];
            var path = $"episodes[{i}]";
            if (!episodeIds.Add(upload.EpisodeId))
                errors.Add(new($"{path}.episodeId", "unique", "appears twice in the batch; send an episode's events together"));
            if (upload.Events.Count == 0)
                errors.Add(new($"{path}.events", "min-items", "must hold at least 1 event"));

            var events = new List<IncomingEvent>(upload.Events.Count);
            for (var j = 0; j < upload.Events.Count && !errors.Full; j++)
            {
                var envelope = upload.Events[j];
                var at = $"{path}.events[{j}]";
                if (!eventIds.Add(envelope.EventId))
                    errors.Add(new($"{at}.eventId", "unique", "appears twice in the batch"));
                if (envelope.Position < 1 || envelope.Position > SyncLimits.MaxPosition)
                    errors.Add(new($"{at}.position", "range", $"must be between 1 and {SyncLimits.MaxPosition}"));
                else if (j > 0 && envelope.Position != upload.Events[j - 1].Position + 1)
                    errors.Add(new($"{at}.position", "consecutive", "must follow the previous event's position by exactly 1"));

                if (!EventTypes.ByName.TryGetValue(envelope.Type, out var type))
                {
                    errors.Add(new($"{at}.type", "allowed-values", $"must be one of: {string.Join(", ", EventTypes.ByName.Keys)}"));
                    continue;
                }
                var before = errors.Total;
                ContractShape.Check(envelope.Data, type, $"{at}.data", errors);
                if (errors.Total > before) continue;

                object data;
                try
                {
                    data = envelope.Data.Deserialize(type, ProtocolJson.Options)!;
                }
                catch (JsonException e)
                {
                    // ContractShape catches what a client gets wrong; this is the serializer's last word.
                    errors.Add(new($"{at}.data{e.Path?.TrimStart('$')}", "json", e.Message));
                    continue;
                }
                errors.AddRange(EventRules.Check(data, $"{at}.data", today));
                events.Add(new IncomingEvent(envelope.EventId, envelope.Position, envelope.Type, data));
            }
            episodes.Add(new IncomingEpisode(upload.EpisodeId, events));
        }
        return errors.Total > 0 ? (null, errors) : (episodes, errors);
    }
}

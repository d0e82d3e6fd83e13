using System.Diagnostics;
using System.Text.Json;
using Marten;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Episodes;
using MatOutcomes.Platform.ServiceDefaults;
using MatOutcomes.Platform.Storage;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;

namespace MatOutcomes.Platform.Sync.Pushing;

/// <summary>POST /api/clinics/{clinicId}/events: a clinic pushes events of one or more episodes.
/// Episodes are atomic: each is appended whole or not at all. All accepted episodes of a batch
/// commit in one transaction; an invalid event anywhere refuses the whole batch.</summary>
public static class PushEvents
{
    public static RouteHandlerBuilder MapPushEvents(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/clinics/{clinicId}/events", Handle).RequireClinicAccess()
            .Accepts<PushBatch>("application/json")
            .Produces<PushAcknowledgement>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

    private static async Task<IResult> Handle(string clinicId, HttpContext http, IDocumentStore store,
        PlatformTelemetry telemetry, TimeProvider clock, CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        if (!http.Request.HasJsonContentType())
            return Problems.Result(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                "Send the batch as application/json.", "content-type");
        if (http.Request.ContentLength > SyncLimits.MaxBodyBytes)
            return TooLarge();
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = SyncLimits.MaxBodyBytes;

        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = 16 }, cancellation);
        }
        catch (JsonException e)
        {
            return Problems.Validation("The body is not valid JSON; nothing was stored",
                [new FieldError(e.Path ?? "", "json", $"line {e.LineNumber + 1}, byte {e.BytePositionInLine}: not valid JSON")]);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }

        using (body)
        {
            var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
            var (episodes, errors) = PushBatchReader.Read(body.RootElement, today);
            if (episodes is null)
                return Problems.Validation("The batch was not accepted; nothing was stored", errors);

            using var activity = PlatformTelemetry.Source.StartActivity("sync.push");
            activity?.SetTag("matoutcomes.clinic", clinicId);
            activity?.SetTag("matoutcomes.episodes", episodes.Count);

            var result = await WriteAsync(store, clinicId, episodes, cancellation);
            if (result.Errors.Count > 0)
                return Problems.Validation("The batch breaks an episode's rules; nothing was stored", result.Errors,
                    StatusCodes.Status422UnprocessableEntity);

            var appended = result.Acknowledgement!.Episodes.Sum(e => e.Appended);
            telemetry.EventsIngested.Add(appended);
            telemetry.DuplicatesAcknowledged.Add(result.Acknowledgement.Episodes.Sum(e => e.Duplicates));
            telemetry.EpisodeConflicts.Add(result.Acknowledgement.Episodes.Count(e => e.Status == EpisodeSyncStatus.Conflict));
            telemetry.PushDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            activity?.SetTag("matoutcomes.events_appended", appended);
            return TypedResults.Ok(result.Acknowledgement);
        }
    }

    private static IResult TooLarge() => Problems.Result(StatusCodes.Status413PayloadTooLarge, "Batch too large",
        $"A push body may be at most {SyncLimits.MaxBodyBytes} bytes and {SyncLimits.MaxEventsPerBatch} events; split the batch.",
        "batch-too-large");

    private sealed record WriteResult(PushAcknowledgement? Acknowledgement, IReadOnlyList<FieldError> Errors);

    private static async Task<WriteResult> WriteAsync(IDocumentStore store, string clinicId,
        IReadOnlyList<IncomingEpisode> episodes, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession(clinicId);
        await session.BeginTransactionAsync(cancellation);

        // Pushes of one clinic take turns (other clinics are not held up). So a clinic's events
        // commit in sequence order, which lets pulls page by sequence without missing any, and
        // two devices pushing the same episode meet as a clean conflict rather than a race.
        await session.QueryAsync<int>("select 1 from pg_advisory_xact_lock(4242, hashtext(?))", cancellation, clinicId);

        var ids = episodes.Select(e => e.EpisodeId).ToArray();
        var stored = (await session.Events.QueryAllRawEvents()
                .Where(e => e.StreamId.IsOneOf(ids))
                .ToListAsync(cancellation))
            .GroupBy(e => e.StreamId)
            .ToDictionary(g => g.Key, g => g.OrderBy(e => e.Version).ToList());

        var plans = episodes.Select((upload, i) =>
        {
            var events = stored.GetValueOrDefault(upload.EpisodeId) ?? [];
            var episode = events.Aggregate((Episode?)null,
                (state, e) => Episode.Fold(state, upload.EpisodeId, e.Id, (int)e.Version, e.Data));
            var refs = events.Select(e => new StoredRef((int)e.Version, e.Id, e.EventTypeName)).ToList();
            return SyncDecider.Decide(upload, refs, episode, $"episodes[{i}]");
        }).ToList();

        var errors = plans.SelectMany(p => p.Errors).ToList();
        errors.AddRange(await EventIdsUsedElsewhere(session, clinicId, episodes, plans, cancellation));
        if (errors.Count > 0) return new(null, errors);

        foreach (var plan in plans.Where(p => p.ToAppend.Count > 0))
        {
            var events = plan.ToAppend.Select(e =>
            {
                var wrapped = session.Events.BuildEvent(e.Data);
                wrapped.Id = e.EventId;
                return (object)wrapped;
            }).ToArray();
            if (plan.StoredVersion == 0) session.Events.StartStream(plan.EpisodeId, events);
            else session.Events.Append(plan.EpisodeId, plan.VersionAfter, events);
        }

        await session.SaveChangesAsync(cancellation);

        return new(new PushAcknowledgement(clinicId, plans.Select(p => new EpisodeAcknowledgement(
            p.EpisodeId, p.Status, p.ToAppend.Count, p.Duplicates,
            p.Status == EpisodeSyncStatus.Appended ? p.VersionAfter : p.StoredVersion,
            p.Status == EpisodeSyncStatus.Gap ? p.StoredVersion + 1 : null,
            p.Status == EpisodeSyncStatus.Conflict
                ? p.Conflicts.Select(c => new ConflictingEvent(c.Position, c.SentEventId,
                    StoredEvents.ToContract(stored[p.EpisodeId][c.Position - 1]))).ToList()
                : null)).ToList()), []);
    }

    /// <summary>An event id is the idempotency key of one event, so it may stand in only one place
    /// in a clinic's store (the unique index on tenant and id enforces it; this names the field).
    /// Only the clinic's own events count: whether another clinic holds the id changes nothing.</summary>
    private static async Task<IEnumerable<FieldError>> EventIdsUsedElsewhere(IDocumentSession session, string clinicId,
        IReadOnlyList<IncomingEpisode> episodes, IReadOnlyList<EpisodePlan> plans, CancellationToken cancellation)
    {
        var fresh = plans.SelectMany(p => p.ToAppend).Select(e => e.EventId).ToArray();
        if (fresh.Length == 0) return [];
        var taken = await session.QueryAsync<Guid>(
            $"select id from {EventStoreExtensions.Schema}.mt_events where tenant_id = ? and id = any(?)", cancellation, clinicId, fresh);
        if (taken.Count == 0) return [];
        var takenSet = taken.ToHashSet();
        return episodes.SelectMany((upload, i) => upload.Events.Select((e, j) => (e, Path: $"episodes[{i}].events[{j}].eventId")))
            .Where(x => takenSet.Contains(x.e.EventId))
            .Select(x => new FieldError(x.Path, "event-id-taken", "is already the id of another event of this clinic; generate a new id"));
    }
}

using JasperFx.Events;
using Marten;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;

namespace MatOutcomes.Platform.Sync.Pulling;

/// <summary>GET /api/clinics/{clinicId}/events?after={cursor}&amp;limit={n}: a clinic's own
/// events in commit order, so a second device catches up; and one episode's stream, to resolve
/// a conflict.</summary>
public static class PullEvents
{
    public static void MapPullEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/clinics/{clinicId}/events", PullClinic).RequireClinicAccess().Produces<PullPage>();
        app.MapGet("/api/clinics/{clinicId}/episodes/{episodeId:guid}/events", PullEpisode).RequireClinicAccess()
            .Produces<IReadOnlyList<StoredEvent>>();
    }

    private static async Task<IResult> PullClinic(string clinicId, IDocumentStore store, CancellationToken cancellation,
        long after = 0, int limit = 500)
    {
        var errors = new List<FieldError>();
        if (after < 0) errors.Add(new("after", "range", "must be 0 or a cursor returned by an earlier pull"));
        if (limit is < 1 or > SyncLimits.MaxPullPage) errors.Add(new("limit", "range", $"must be between 1 and {SyncLimits.MaxPullPage}"));
        if (errors.Count > 0) return Problems.Validation("The pull request is not valid", errors);

        await using var session = store.QuerySession(clinicId);
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.Sequence > after)
            .OrderBy(e => e.Sequence)
            .Take(limit + 1)
            .ToListAsync(cancellation);

        var page = events.Take(limit).Select(StoredEvents.ToContract).ToList();
        return TypedResults.Ok(new PullPage(page, page.Count > 0 ? page[^1].Sequence : after, events.Count > limit));
    }

    private static async Task<IResult> PullEpisode(string clinicId, Guid episodeId, IDocumentStore store,
        CancellationToken cancellation)
    {
        await using var session = store.QuerySession(clinicId);
        var events = await session.Events.FetchStreamAsync(episodeId, token: cancellation);
        return events.Count == 0
            ? Problems.Result(StatusCodes.Status404NotFound, "No such episode", $"Clinic '{clinicId}' holds no episode {episodeId}.", "not-found")
            : TypedResults.Ok(events.Select(StoredEvents.ToContract).ToList());
    }
}

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
        app.MapGet("/api/clinics/{clinicId}/episodes/{episodeId}/events", PullEpisode).RequireClinicAccess()
            .Produces<IReadOnlyList<StoredEvent>>();
    }

    // Query values arrive as text and are held to the protocol's spelling: long binding would read
    // "5\n" or " 5" as 5.
    private static async Task<IResult> PullClinic(string clinicId, IDocumentStore store, CancellationToken cancellation,
        string? after = null, string? limit = null)
    {
        var errors = new List<FieldError>();
        var cursor = Identifiers.Cursor("after", after, errors);
        var size = Identifiers.Count("limit", limit, 500, 1, SyncLimits.MaxPullPage, errors);
        if (errors.Count > 0) return Problems.Validation("The pull request is not valid", errors);

        await using var session = store.QuerySession(clinicId);
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.Sequence > cursor)
            .OrderBy(e => e.Sequence)
            .Take(size + 1)
            .ToListAsync(cancellation);

        var page = events.Take(size).Select(StoredEvents.ToContract).ToList();
        return TypedResults.Ok(new PullPage(page, page.Count > 0 ? page[^1].Sequence : cursor, events.Count > size));
    }

    private static async Task<IResult> PullEpisode(string clinicId, string episodeId, IDocumentStore store,
        CancellationToken cancellation)
    {
        var errors = new List<FieldError>();
        if (Identifiers.EpisodeId("episodeId", episodeId, errors) is not { } id)
            return Problems.Validation("The episode id is not valid", errors);
        await using var session = store.QuerySession(clinicId);
        var events = await session.Events.FetchStreamAsync(id, token: cancellation);
        return events.Count == 0
            ? Problems.Result(StatusCodes.Status404NotFound, "No such episode", $"Clinic '{clinicId}' holds no episode {id}.", "not-found")
            : TypedResults.Ok(events.Select(StoredEvents.ToContract).ToList());
    }
}

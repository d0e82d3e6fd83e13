using Marten;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;

namespace MatOutcomes.Platform.Episodes.GettingEpisode;

/// <summary>GET /api/clinics/{clinicId}/episodes/{episodeId}: the episode as its events say it
/// is now (cohort, baseline, latest scores, sessions so far). Consistent with the last push:
/// the read model is written in the push's own transaction.</summary>
public static class GetEpisode
{
    public static void MapGetEpisode(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/clinics/{clinicId}/episodes/{episodeId}", Handle).RequireClinicAccess().Produces<Episode>();

    private static async Task<IResult> Handle(string clinicId, string episodeId, IDocumentStore store, CancellationToken cancellation)
    {
        var errors = new List<FieldError>();
        if (Identifiers.EpisodeId("episodeId", episodeId, errors) is not { } id)
            return Problems.Validation("The episode id is not valid", errors);
        await using var session = store.QuerySession(clinicId);
        return await session.LoadAsync<Episode>(id, cancellation) is { } episode
            ? TypedResults.Ok(episode)
            : Problems.Result(StatusCodes.Status404NotFound, "No such episode", $"Clinic '{clinicId}' holds no episode {id}.", "not-found");
    }
}

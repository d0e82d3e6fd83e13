using MatOutcomes.Platform.Auth;

namespace MatOutcomes.Platform.Outcomes.Releasing;

public sealed record ReleaseSummary(int Number, long Sequence, DateTimeOffset CutAt);

/// <summary>GET /api/releases (researchers: what has been published, newest first) and
/// POST /api/releases (admins: cut one now instead of waiting for the schedule).</summary>
public static class ReleaseEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/releases", async (Releases releases, CancellationToken cancellation) =>
                TypedResults.Ok((await releases.ListAsync(cancellation)).Select(r => new ReleaseSummary(r.Id, r.Sequence, r.CutAt)).ToList()))
            .RequireAuthorization(AuthenticationExtensions.Researcher);

        app.MapPost("/api/releases", async (Releases releases, CancellationToken cancellation) =>
            {
                var release = await releases.CutAsync(cancellation);
                return TypedResults.Ok(new ReleaseSummary(release.Number, release.Sequence, release.CutAt));
            })
            .RequireAuthorization(policy => policy.RequireRole(Roles.Admin));
    }
}

using System.Text.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Releasing;
using MatOutcomes.Platform.Gateway.Limits;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>POST /api/studies/cohort-comparison[?asOf=sequence]: early versus chronic for the
/// researcher's filter, with every statistic, CI and suppression flag, and the event sequence
/// the numbers include (pass it back as <c>asOf</c> to reproduce them).</summary>
public static class CompareCohorts
{
    public static void MapCompareCohorts(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/studies/cohort-comparison", Handle)
            .RequireAuthorization(AuthenticationExtensions.Researcher)
            .RequireRateLimiting(ResearcherRateLimit.Policy)
            .AddEndpointFilter(RequestBody.AtMost(RequestBody.StudyLimit))
            .AddEndpointFilter(ReplayBudget.ChargeAsOfQuery)
            .Produces<CohortComparison>();

    private static async Task<IResult> Handle(HttpRequest request, StudyReader reader, IOptions<PrivacyOptions> privacy,
        ReplayBudget replays, CancellationToken cancellation, string? asOf = null)
    {
        StudyQuery query;
        try
        {
            query = request.ContentLength is 0 ? new StudyQuery()
                : await JsonSerializer.DeserializeAsync<StudyQuery>(request.Body, ProtocolJson.Options, cancellation) ?? new StudyQuery();
        }
        catch (JsonException e)
        {
            return Problems.Validation("The study query is not valid", [new FieldError(e.Path?.TrimStart('$', '.') ?? "", "json", e.Message)]);
        }

        // asOf arrives as text held to digits only: long binding read "5\n" as 5, which the replay
        // budget (parsing strictly) did not charge.
        var errors = query.Validate().ToList();
        var at = Identifiers.Sequence("asOf", asOf, errors);
        if (errors.Count > 0) return Problems.Validation("The study query is not valid", errors);

        var release = at is { } sequence ? await replays.RunAsync(sequence, ct => reader.AsOfAsync(sequence, ct), cancellation) : await reader.CurrentAsync(cancellation);
        if (release is null)
            return Problems.Validation("The study query is not valid", [new FieldError("asOf", "release", StudyReader.NotARelease)]);
        return TypedResults.Ok(StudyCalculator.Remembered(release.Cube, release.Disclosure, query, privacy.Value.K));
    }
}

using System.Diagnostics.Metrics;
using Marten;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.ServiceDefaults;
using MatOutcomes.Platform.Storage;

namespace MatOutcomes.Platform.Outcomes.Projecting;

public sealed record ProjectionStatus(long HighestEventSequence, long OutcomesSequence, long LagEvents);

/// <summary>How far the outcome read models trail the event log: an endpoint, and the gauge
/// <c>matoutcomes.projection.lag</c> sampled every few seconds.</summary>
public sealed class ProjectionLag(IDocumentStore store, PlatformTelemetry telemetry, ILogger<ProjectionLag> log) : BackgroundService
{
    private long _lastLag;
    private volatile ProjectionStatus _last = new(0, 0, 0);

    /// <summary>The last sample (every few seconds): cheap enough to show on every dashboard update.</summary>
    public ProjectionStatus Last => _last;

    public async Task<ProjectionStatus> ReadAsync(CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        // The highest stored event, not the sequence's last value: rolled-back appends burn numbers.
        var highest = (await session.QueryAsync<long>(
            $"select coalesce(max(seq_id), 0) from {EventStoreExtensions.Schema}.mt_events", cancellation)).Single();
        var outcomes = await OutcomesProjection.SequenceAsync(session, cancellation);
        return new ProjectionStatus(highest, outcomes, Math.Max(0, highest - outcomes));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        telemetry.Meter.CreateObservableGauge("matoutcomes.projection.lag", () => Interlocked.Read(ref _lastLag), "{event}",
            "Events appended but not yet in the outcome read models");
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _last = await ReadAsync(stoppingToken);
                Interlocked.Exchange(ref _lastLag, _last.LagEvents);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogDebug(e, "Could not sample projection lag");
            }
            await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    public static void MapProjectionStatus(IEndpointRouteBuilder app) =>
        app.MapGet("/api/projections/outcomes", async (ProjectionLag lag, CancellationToken cancellation) =>
                TypedResults.Ok(await lag.ReadAsync(cancellation)))
            .RequireAuthorization(AuthenticationExtensions.Researcher)
            .RequireRateLimiting(Gateway.Limits.ResearcherRateLimit.Policy);
}

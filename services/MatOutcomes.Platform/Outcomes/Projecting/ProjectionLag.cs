using System.Diagnostics.Metrics;
using Marten;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.ServiceDefaults;

namespace MatOutcomes.Platform.Outcomes.Projecting;

public sealed record ProjectionStatus(long HighestEventSequence, long OutcomesSequence, long LagEvents);

/// <summary>How far the outcome read models trail the event log: an endpoint, and the gauge
/// <c>matoutcomes.projection.lag</c> sampled every few seconds.</summary>
public sealed class ProjectionLag(IDocumentStore store, PlatformTelemetry telemetry, ILogger<ProjectionLag> log) : BackgroundService
{
    private long _lastLag;

    public async Task<ProjectionStatus> ReadAsync(CancellationToken cancellation)
    {
        var statistics = await store.Advanced.FetchEventStoreStatistics(token: cancellation);
        await using var session = store.QuerySession();
        var checkpoint = await session.LoadAsync<OutcomesCheckpoint>(OutcomesCheckpoint.TheId, cancellation);
        var outcomes = checkpoint?.Sequence ?? 0;
        return new ProjectionStatus(statistics.EventSequenceNumber, outcomes, Math.Max(0, statistics.EventSequenceNumber - outcomes));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        telemetry.Meter.CreateObservableGauge("matoutcomes.projection.lag", () => Interlocked.Read(ref _lastLag), "{event}",
            "Events appended but not yet in the outcome read models");
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Interlocked.Exchange(ref _lastLag, (await ReadAsync(stoppingToken)).LagEvents);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogDebug(e, "Could not sample projection lag");
            }
            await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    public static void MapProjectionStatus(IEndpointRouteBuilder app) =>
        app.MapGet("/api/projections/outcomes", async (ProjectionLag lag, CancellationToken cancellation) =>
                TypedResults.Ok(await lag.ReadAsync(cancellation)))
            .RequireAuthorization(AuthenticationExtensions.Researcher);
}

using Marten;
using MatOutcomes.Platform.Dashboard.Computing;
using MatOutcomes.Platform.Dashboard.Tracking;
using MatOutcomes.Platform.Dashboard.Watching;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.ServiceDefaults;
using MatOutcomes.Platform.Storage;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Dashboard.Publishing;

/// <summary>Pushes fresh figures to the clinics that changed. Runs on every node but only has work
/// where the <see cref="DashboardChanges"/> subscription runs. A round at most every
/// <see cref="DashboardOptions.CoalesceInterval"/>: a burst of a thousand sessions becomes one
/// message per clinic. Each round waits until both read models include the announced events, so
/// a dashboard never shows a session count from before the session it was told about.</summary>
public sealed class DashboardPublisher(
    DashboardChangeFeed feed,
    DashboardReader reader,
    IHubContext<DashboardHub, IDashboardClient> hub,
    IDocumentStore store,
    DashboardMetrics metrics,
    IOptions<DashboardOptions> options,
    TimeProvider clock,
    ILogger<DashboardPublisher> log) : BackgroundService
{
    /// <summary>Past this, figures go out anyway: the lag they carry tells the manager they trail.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(30);

    private static readonly string[] ReadModels = [$"{OutcomesProjection.Name}:All", $"{ClinicActivityProjection.Name}:All"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastRound = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await feed.WaitAsync(stoppingToken);
                var wait = lastRound + options.Value.CoalesceInterval - clock.GetUtcNow();
                if (wait > TimeSpan.Zero) await Task.Delay(wait, clock, stoppingToken);
                var changes = feed.Drain();
                if (changes.Count == 0) continue;
                await PublishAsync(changes, stoppingToken);
                // Counted from the send, not the start of the round, so however long a round waits
                // for the read models, two messages to a clinic are an interval apart.
                lastRound = clock.GetUtcNow();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The next change of the clinic, or a dashboard reconnecting, brings the figures.
                log.LogWarning(e, "Could not publish dashboard figures");
            }
        }
    }

    private async Task PublishAsync(IReadOnlyList<ClinicChange> changes, CancellationToken cancellation)
    {
        using var activity = PlatformTelemetry.Source.StartActivity("dashboard.publish");
        activity?.SetTag("matoutcomes.clinics", changes.Count);
        var through = changes.Max(c => c.Sequence);
        var started = clock.GetUtcNow();
        if (!await CaughtUpAsync(through, cancellation))
            log.LogWarning("Read models still behind event {Sequence} after {Wait}; publishing what they hold", through, LongestWait);
        var caughtUp = clock.GetUtcNow();

        var figures = (await reader.FreshAsync(changes.Select(c => c.Clinic).ToList(), cancellation))
            .Where(ChangedSinceLastSent).ToList();
        await Task.WhenAll(figures.Select(f => hub.Clients.Group(DashboardHub.GroupFor(f.Clinic)).Figures(f)));

        var sent = clock.GetUtcNow();
        metrics.Round((caughtUp - started).TotalMilliseconds, (sent - caughtUp).TotalMilliseconds);
        activity?.SetTag("matoutcomes.read_model_wait_ms", (caughtUp - started).TotalMilliseconds);
        foreach (var change in changes) metrics.Published((sent - change.FirstCommitted).TotalMilliseconds);
    }

    // The subscription can announce the tail of a burst after the read models already showed it:
    // a round whose figures equal what the clinic's dashboards last got sends nothing.
    private readonly Dictionary<string, string> _lastSent = [];

    private bool ChangedSinceLastSent(DashboardFigures figures)
    {
        var content = System.Text.Json.JsonSerializer.Serialize(figures with { ComputedAt = default });
        if (_lastSent.GetValueOrDefault(figures.Clinic) == content) return false;
        _lastSent[figures.Clinic] = content;
        return true;
    }

    private async Task<bool> CaughtUpAsync(long sequence, CancellationToken cancellation)
    {
        var deadline = clock.GetUtcNow() + LongestWait;
        await using var session = store.QuerySession();
        while (true)
        {
            var reached = (await session.QueryAsync<long>(
                $"select case when count(*) = {ReadModels.Length} then min(last_seq_id) else 0 end " +
                $"from {EventStoreExtensions.Schema}.mt_event_progression where name = any(?)", cancellation, (object)ReadModels)).Single();
            if (reached >= sequence) return true;
            if (clock.GetUtcNow() > deadline) return false;
            await Task.Delay(TimeSpan.FromMilliseconds(50), clock, cancellation);
        }
    }
}

/// <summary>The dashboard's own meters beside the platform's: push latency (event committed to
/// figures sent), updates sent, and live connections.</summary>
public sealed class DashboardMetrics
{
    private readonly System.Diagnostics.Metrics.Histogram<double> _latency;
    private readonly System.Diagnostics.Metrics.Counter<long> _updates;
    private readonly System.Diagnostics.Metrics.UpDownCounter<long> _connections;

    public DashboardMetrics(PlatformTelemetry telemetry)
    {
        _latency = telemetry.Meter.CreateHistogram<double>("matoutcomes.dashboard.push_latency", "ms",
            "From an event's commit to the dashboard update that includes it leaving the server");
        _updates = telemetry.Meter.CreateCounter<long>("matoutcomes.dashboard.updates", "{message}", "Dashboard updates sent (one per clinic per round)");
        _connections = telemetry.Meter.CreateUpDownCounter<long>("matoutcomes.dashboard.connections", "{connection}", "Dashboard connections open on this node");
        _wait = telemetry.Meter.CreateHistogram<double>("matoutcomes.dashboard.read_model_wait", "ms",
            "How long a publishing round waited for the read models to include the changes it announces");
        _compute = telemetry.Meter.CreateHistogram<double>("matoutcomes.dashboard.round_duration", "ms",
            "Reading, computing and sending the changed clinics' figures, once the read models caught up");
    }

    private readonly System.Diagnostics.Metrics.Histogram<double> _wait;
    private readonly System.Diagnostics.Metrics.Histogram<double> _compute;

    public void Round(double waitedMs, double computedMs)
    {
        _wait.Record(waitedMs);
        _compute.Record(computedMs);
    }

    private long _updatesSent;

    /// <summary>Updates this node has sent since it started.</summary>
    public long UpdatesSent => Interlocked.Read(ref _updatesSent);

    public void Published(double latencyMs)
    {
        Interlocked.Increment(ref _updatesSent);
        _updates.Add(1);
        _latency.Record(Math.Max(0, latencyMs));
    }

    private long _open;

    /// <summary>Dashboard connections open on this node now.</summary>
    public long Connections => Interlocked.Read(ref _open);

    public void Connected()
    {
        Interlocked.Increment(ref _open);
        _connections.Add(1);
    }

    public void Disconnected()
    {
        Interlocked.Decrement(ref _open);
        _connections.Add(-1);
    }
}

using System.Collections.Concurrent;
using System.Threading.Channels;
using MatOutcomes.Platform.Dashboard.Computing;
using MatOutcomes.Platform.Dashboard.Watching;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Releasing;
using MatOutcomes.Platform.ServiceDefaults;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Dashboard.Publishing;

/// <summary>Pushes fresh figures to the dashboards this node holds, for the clinics whose cells or
/// activity changed in the cube. Per clinic, the first change after a quiet interval goes out at
/// once (leading edge) and later ones are coalesced to one message per
/// <see cref="DashboardOptions.CoalesceInterval"/>. A clinic nobody watches here costs nothing.
/// Every node follows the read models itself and sends only to its own connections, so no
/// backplane is needed and no message is sent twice.</summary>
public sealed class DashboardPublisher(
    OutcomeCube cube,
    Releases releases,
    DashboardReader reader,
    DashboardWatchers watchers,
    IHubContext<DashboardHub, IDashboardClient> hub,
    DashboardMetrics metrics,
    IOptions<DashboardOptions> options,
    TimeProvider clock,
    ILogger<DashboardPublisher> log) : BackgroundService
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastSent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastContent = new(StringComparer.Ordinal);
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        cube.Changed += OnChanged;
        releases.Published += OnReleased;
        return base.StartAsync(cancellationToken);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        cube.Changed -= OnChanged;
        releases.Published -= OnReleased;
        return base.StopAsync(cancellationToken);
    }

    // A new release brings new network comparisons to every dashboard.
    private void OnReleased(ReleaseSnapshot release)
    {
        if (cube.Current is { } snapshot) OnChanged(new CubeChange(snapshot, watchers.Clinics(), DateTimeOffset.UtcNow));
    }

    private void OnChanged(CubeChange change)
    {
        var any = false;
        foreach (var clinic in change.Clinics)
        {
            if (!watchers.IsWatched(clinic)) continue;
            _pending.TryAdd(clinic, change.Read);
            any = true;
        }
        if (any) _signal.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.CoalesceInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = clock.GetUtcNow();
                var due = _pending.Keys.Where(c => _lastSent.GetValueOrDefault(c) + interval <= now).ToList();
                if (due.Count > 0 && cube.Current is { } snapshot) await PublishAsync(snapshot, due, stoppingToken);

                var waiting = _pending.Keys.Select(c => _lastSent.GetValueOrDefault(c) + interval).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                if (waiting != DateTimeOffset.MaxValue) wait.CancelAfter(TimeSpan.FromTicks(Math.Max(1, (waiting - clock.GetUtcNow()).Ticks)));
                try
                {
                    await _signal.Reader.ReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The next change of the clinic, or a dashboard reconnecting, brings the figures.
                log.LogWarning(e, "Could not publish dashboard figures");
                await Task.Delay(100, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    private async Task PublishAsync(CubeSnapshot snapshot, IReadOnlyList<string> clinics, CancellationToken cancellation)
    {
        using var activity = PlatformTelemetry.Source.StartActivity("dashboard.publish");
        activity?.SetTag("matoutcomes.clinics", clinics.Count);
        var sends = new List<Task>();
        foreach (var clinic in clinics)
        {
            if (!_pending.TryRemove(clinic, out var noticed)) continue;
            var connections = watchers.ConnectionsOf(clinic);
            if (connections.Count == 0) continue;
            var figures = reader.For(snapshot, clinic);
            // The cube can announce a change that leaves a clinic's figures as they were (another
            // clinic's cell, a re-sent batch): then nothing is sent.
            var content = System.Text.Json.JsonSerializer.Serialize(figures with { ComputedAt = default, Lag = figures.Lag with { HighestEventSequence = 0, LagEvents = 0 } });
            if (_lastContent.GetValueOrDefault(clinic) == content) continue;
            _lastContent[clinic] = content;
            _lastSent[clinic] = clock.GetUtcNow();
            sends.Add(hub.Clients.Clients(connections).Figures(figures));
            metrics.Published((clock.GetUtcNow() - noticed).TotalMilliseconds);
        }
        await Task.WhenAll(sends).WaitAsync(cancellation);
    }
}

/// <summary>Which of this node's dashboard connections watch which clinic.</summary>
public sealed class DashboardWatchers
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<string>> _byClinic = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _byConnection = new(StringComparer.Ordinal);

    public void Watch(string connection, string clinic)
    {
        lock (_lock)
        {
            Set(_byClinic, clinic).Add(connection);
            Set(_byConnection, connection).Add(clinic);
        }
    }

    public void Unwatch(string connection, string clinic)
    {
        lock (_lock)
        {
            if (_byClinic.TryGetValue(clinic, out var connections) && connections.Remove(connection) && connections.Count == 0)
                _byClinic.Remove(clinic);
            if (_byConnection.TryGetValue(connection, out var clinics)) clinics.Remove(clinic);
        }
    }

    public void Disconnected(string connection)
    {
        lock (_lock)
        {
            if (!_byConnection.Remove(connection, out var clinics)) return;
            foreach (var clinic in clinics)
                if (_byClinic.TryGetValue(clinic, out var connections) && connections.Remove(connection) && connections.Count == 0)
                    _byClinic.Remove(clinic);
        }
    }

    public IReadOnlySet<string> Clinics()
    {
        lock (_lock) return _byClinic.Keys.ToHashSet(StringComparer.Ordinal);
    }

    public bool IsWatched(string clinic)
    {
        lock (_lock) return _byClinic.ContainsKey(clinic);
    }

    public IReadOnlyList<string> ConnectionsOf(string clinic)
    {
        lock (_lock) return _byClinic.TryGetValue(clinic, out var connections) ? [.. connections] : [];
    }

    private static HashSet<string> Set(Dictionary<string, HashSet<string>> map, string key)
    {
        if (!map.TryGetValue(key, out var set)) map[key] = set = new HashSet<string>(StringComparer.Ordinal);
        return set;
    }
}

/// <summary>The dashboard's own meters beside the platform's: push latency (change noticed in the
/// read models to figures sent), updates sent, and live connections.</summary>
public sealed class DashboardMetrics
{
    private readonly System.Diagnostics.Metrics.Histogram<double> _latency;
    private readonly System.Diagnostics.Metrics.Counter<long> _updates;
    private readonly System.Diagnostics.Metrics.UpDownCounter<long> _connections;

    public DashboardMetrics(PlatformTelemetry telemetry)
    {
        _latency = telemetry.Meter.CreateHistogram<double>("matoutcomes.dashboard.push_latency", "ms",
            "From a change reaching this node's read models to the dashboard update that includes it leaving the server");
        _updates = telemetry.Meter.CreateCounter<long>("matoutcomes.dashboard.updates", "{message}", "Dashboard updates sent (one per clinic per round)");
        _connections = telemetry.Meter.CreateUpDownCounter<long>("matoutcomes.dashboard.connections", "{connection}", "Dashboard connections open on this node");
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

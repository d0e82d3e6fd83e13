using System.Diagnostics;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Dashboard.Publishing;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>How many dashboards one Kestrel-hosted process holds, each a .NET SignalR client over
/// its own WebSocket, and that one update per clinic reaches every one of them. The clients run in
/// the test process beside the server (2 sockets per connection in one process), so the figure is
/// bounded by this one process's file descriptors and memory, not only the server's.
/// MATOUTCOMES_LOAD_CONNECTIONS sets the number (default 300).</summary>
public class DashboardLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private KestrelPlatform _platform = null!;
    private readonly List<DashboardConnection> _connections = [];

    public async Task InitializeAsync() =>
        _platform = await KestrelPlatform.StartAsync(await TestCluster.NewDatabaseAsync(nameof(DashboardLoadTests)));

    /// <summary>A long run shows where it is in measurements/dashboard-connections.log.</summary>
    private static void Progress(string line)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "measurements");
        Directory.CreateDirectory(directory);
        File.AppendAllText(Path.Combine(directory, "dashboard-connections.log"), $"{DateTime.Now:HH:mm:ss} {line}\n");
    }

    public async Task DisposeAsync()
    {
        foreach (var batch in _connections.Chunk(200)) await Task.WhenAll(batch.Select(c => c.DisposeAsync().AsTask()));
        await _platform.DisposeAsync();
    }

    [Fact]
    public async Task One_process_holds_many_dashboard_connections_and_every_one_gets_its_clinics_update()
    {
        var wanted = Measurements.Setting("MATOUTCOMES_LOAD_CONNECTIONS", 300);
        var clinics = Enumerable.Range(0, 10).Select(_ => PlatformFixture.NewClinic()).ToArray();
        var token = _platform.Token(Roles.Manager, clinics);
        var metrics = _platform.Services.GetRequiredService<DashboardMetrics>();
        GC.Collect();
        var memoryBefore = Process.GetCurrentProcess().WorkingSet64;

        var connecting = Stopwatch.StartNew();
        var gate = new SemaphoreSlim(32);
        var watched = new Dictionary<DashboardConnection, string>();
        await Task.WhenAll(Enumerable.Range(0, wanted).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                // Straight to the WebSocket: the load is in the connections held, not in negotiate requests.
                var hub = DashboardConnection.Build(_platform.Address, token, transport: HttpTransportType.WebSockets, skipNegotiation: true);
                var connection = DashboardConnection.Wrap(hub);
                lock (watched) _connections.Add(connection);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await hub.StartAsync(timeout.Token);
                await connection.WatchAsync(clinics[i % clinics.Length]).WaitAsync(timeout.Token);
                lock (watched)
                {
                    watched[connection] = clinics[i % clinics.Length];
                    if (watched.Count % 500 == 0) Progress($"{watched.Count} connected after {connecting.Elapsed.TotalSeconds:F1} s");
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        var connected = connecting.Elapsed;
        Assert.Equal(wanted, metrics.Connections);
        var memoryAfter = Process.GetCurrentProcess().WorkingSet64;

        Progress($"all {wanted} connected; server holds {metrics.Connections}");
        var today = DateOnly.FromDateTime(DateTime.Now);
        await Task.WhenAll(clinics.Select(c => _platform.PushAsync(c, Episodes.Opened(today, 0, sessions: [(0, 6, 4)]))));
        var fanningOut = Stopwatch.StartNew();
        var receivedAfter = await Task.WhenAll(watched.Select(async w =>
        {
            await w.Key.NextAsync(f => f.Clinic == w.Value && f.Activity.SessionsToday == 1, TimeSpan.FromSeconds(60));
            return fanningOut.Elapsed.TotalMilliseconds;
        }));

        Progress("every connection got its update");
        var figures = new
        {
            connections = wanted,
            heldByServer = metrics.Connections,
            connectSeconds = Math.Round(connected.TotalSeconds, 1),
            workingSetGrowthMb = Math.Round((memoryAfter - memoryBefore) / 1048576.0, 1),
            kbPerConnectionClientAndServer = Math.Round((memoryAfter - memoryBefore) / 1024.0 / wanted, 1),
            updateReachedAllMs = Math.Round(receivedAfter.Max()),
            updateReachedHalfMs = Math.Round(Measurements.Percentile(receivedAfter, 50)),
        };
        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(figures));
        output.WriteLine(Measurements.Save("dashboard-connections", figures));
    }
}

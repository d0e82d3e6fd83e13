using MatOutcomes.Platform.Auth;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>Push latency as a manager sees it: from the sync API acknowledging a session to the
/// browser showing it, while the simulator syncs a clinic network against the same process. A
/// probe clinic records one session at a time (a random pause between, so probes do not line up
/// with the one-second coalescing rounds); the page's own DOM change is timestamped in the browser
/// and compared with the acknowledgement's arrival on the same machine clock.
/// MATOUTCOMES_LATENCY_PROBES sets the number of probes (default 20).</summary>
public class DashboardLatencyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private KestrelPlatform _platform = null!;
    private Browser _browser = null!;

    public async Task InitializeAsync()
    {
        _platform = await KestrelPlatform.StartAsync(await TestCluster.NewDatabaseAsync(nameof(DashboardLatencyTests)));
        _browser = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _platform.DisposeAsync();
    }

    [Fact]
    public async Task Sessions_synced_under_simulator_load_reach_the_browser()
    {
        var probes = Measurements.Setting("MATOUTCOMES_LATENCY_PROBES", 20);
        var probe = PlatformFixture.NewClinic();
        var today = DateOnly.FromDateTime(DateTime.Now);
        var (page, errors) = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_platform.Address, $"dashboard?token={_platform.Token(Roles.Manager, probe)}").ToString());
        var sessionsToday = page.Locator("[data-figure=\"sessions-today\"]");
        await Expect(sessionsToday).ToHaveTextAsync("0", new() { Timeout = 30_000 });
        await sessionsToday.EvaluateAsync(@"element => {
            window.__shown = {};
            new MutationObserver(() => { window.__shown[element.textContent] ??= Date.now(); })
                .observe(element, { childList: true, characterData: true, subtree: true });
        }");

        // The server's side of the same probes: event commit to send, and its two parts.
        var server = new Dictionary<string, List<double>>();
        using var meters = new System.Diagnostics.Metrics.MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Platform.ServiceDefaults.PlatformTelemetry.Name && instrument.Name.StartsWith("matoutcomes.dashboard."))
                listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            lock (server) (server.TryGetValue(instrument.Name, out var list) ? list : server[instrument.Name] = []).Add(value);
        });
        meters.Start();

        using var load = new CancellationTokenSource();
        var simulated = Task.Run(() => SimulateUntilCancelledAsync(load.Token));
        var latencies = new List<double>();
        var random = new Random(5);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3)); // let the simulator's load build up
            for (var i = 1; i <= probes; i++)
            {
                await _platform.PushAsync(probe, Episodes.Opened(today, 0, patient: $"P-PROBE{i:0000}", sessions: [(0, 6, 4)]));
                var acknowledged = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                await page.WaitForFunctionAsync("n => window.__shown[String(n)] !== undefined", i, new() { Timeout = 30_000 });
                latencies.Add(await page.EvaluateAsync<double>("n => window.__shown[String(n)]", i) - acknowledged);
                await Task.Delay(300 + random.Next(1200));
                Assert.False(simulated.IsFaulted, simulated.Exception?.ToString());
            }
        }
        finally
        {
            await load.CancelAsync();
        }
        var (events, episodes) = await simulated;
        meters.Dispose();
        object Server(string name) => server.TryGetValue($"matoutcomes.dashboard.{name}", out var values) && values.Count > 0
            ? new { rounds = values.Count, p50Ms = Math.Round(Measurements.Percentile(values, 50)), p99Ms = Math.Round(Measurements.Percentile(values, 99)) }
            : new { rounds = 0, p50Ms = 0.0, p99Ms = 0.0 };

        var figures = new
        {
            probes,
            p50Ms = Measurements.Percentile(latencies, 50),
            p90Ms = Measurements.Percentile(latencies, 90),
            p99Ms = Measurements.Percentile(latencies, 99),
            maxMs = latencies.Max(),
            minMs = latencies.Min(),
            simulatedEventsDuringProbes = events,
            simulatedEpisodes = episodes,
            serverCommitToSend = Server("push_latency"),
            serverWaitForReadModels = Server("read_model_wait"),
            serverReadComputeSend = Server("round_duration"),
            loadAverage = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
        };
        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(figures));
        output.WriteLine(Measurements.Save("dashboard-push-latency", figures));
        Assert.Empty(errors);
    }

    /// <summary>Networks of six clinics, one after another (new seeds), synced as the simulator does.</summary>
    private async Task<(long Events, int Episodes)> SimulateUntilCancelledAsync(CancellationToken cancellation)
    {
        long events = 0;
        var episodes = 0;
        using var client = _platform.Client(_platform.Token(Roles.Clinic, [.. Enumerable.Range(1, 6).Select(i => $"clinic-{i:00}")]));
        for (var seed = 1; !cancellation.IsCancellationRequested; seed++)
        {
            var network = NetworkGenerator.Generate(new NetworkOptions
            {
                Clinics = 6, Episodes = 1500, Seed = seed, Months = 12, OfflineShare = 0.25,
                Today = DateOnly.FromDateTime(DateTime.UtcNow),
            });
            try
            {
                var report = await new MatOutcomes.Simulator.Sync.SyncRunner(_ => client).RunAsync(network, cancellation: cancellation);
                events += report.EventsAppended;
                episodes += network.Episodes.Count();
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return (events, episodes);
    }
}

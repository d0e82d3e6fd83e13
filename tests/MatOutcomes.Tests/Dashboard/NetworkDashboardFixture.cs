using System.Net.Http.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Simulator.Sync;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>A Kestrel platform holding a simulated network (pushed over HTTP the way the simulator
/// does, read models caught up), so a dashboard has figures that are not withheld.</summary>
public class NetworkDashboardFixture : DashboardFixture
{
    public SimulatedNetwork Network { get; private set; } = null!;

    protected virtual NetworkOptions Options => new()
    {
        Clinics = 4, Episodes = 1200, Seed = 20261125, Months = 9, OfflineShare = 0,
        Today = DateOnly.FromDateTime(DateTime.UtcNow),
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Network = NetworkGenerator.Generate(Options);
        await SimulateAsync(Network);
        await WaitForOutcomesAsync(TimeSpan.FromSeconds(90));
    }

    public Task<SyncReport> SimulateAsync(SimulatedNetwork network, CancellationToken cancellation = default) =>
        new NetworkFixture.Pusher(Platform).PushAsync(network, cancellation);

    public Task WaitForOutcomesAsync(TimeSpan within) => new NetworkFixture.Pusher(Platform).WaitForOutcomesAsync(within);
}

public class BrowserFixture : NetworkDashboardFixture
{
    public Browser Browser { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Microsoft.Playwright.Assertions.SetDefaultExpectTimeout(15_000);
        Browser = await Browser.LaunchAsync();
    }

    public override async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await base.DisposeAsync();
    }
}

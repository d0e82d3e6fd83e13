using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Dashboard.Publishing;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>Two platform nodes on one database, as two app processes would be. Wolverine runs the
/// dashboard subscription on one of them; a dashboard connected to the other still gets every
/// update, through the Redis backplane.</summary>
public class BackplaneTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private readonly List<KestrelPlatform> _nodes = [];

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private async Task<(KestrelPlatform Publisher, KestrelPlatform Other)> TwoNodesAsync(bool backplane)
    {
        var database = await TestCluster.NewDatabaseAsync(backplane ? "backplane" : "nobackplane");
        var settings = backplane ? new Dictionary<string, string?> { ["SignalR:Redis"] = _redis.ConnectionString } : null;
        var nodes = await Task.WhenAll(KestrelPlatform.StartAsync(database, settings, waitForAgents: false),
            KestrelPlatform.StartAsync(database, settings, waitForAgents: false));
        _nodes.AddRange(nodes);

        // Wolverine elects a leader and hands the subscription's agent to one node: wait for it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var running = nodes.Where(n => n.RunningAgents().Any(uri => uri.Contains($"/{DashboardChanges.SubscriptionName}/"))).ToList();
            if (running.Count == 1)
            {
                var publisher = running[0];
                output.WriteLine($"subscription runs on {publisher.Address}: {string.Join(", ", publisher.RunningAgents())}");
                return (publisher, nodes.Single(n => n != publisher));
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("no single node runs the dashboard subscription: " +
                                           string.Join(" | ", nodes.Select(n => string.Join(", ", n.RunningAgents()))));
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task A_dashboard_on_one_node_gets_an_update_produced_on_the_other_through_the_Redis_backplane()
    {
        var (publisher, other) = await TwoNodesAsync(backplane: true);
        var clinic = PlatformFixture.NewClinic();
        await using var dashboard = await DashboardConnection.OpenAsync(other.Address, other.Token(Roles.Manager, clinic));
        Assert.Equal(0, (await dashboard.WatchAsync(clinic)).Activity.SessionsToday);

        await publisher.PushAsync(clinic, Episodes.Opened(publisher.Services.GetRequiredService<Platform.Dashboard.Computing.DashboardReader>().Today(),
            0, sessions: [(0, 7, 4)]));

        var update = await dashboard.NextAsync(f => f.Activity.SessionsToday == 1, TimeSpan.FromSeconds(30));
        Assert.Equal(clinic, update.Clinic);
        Assert.Equal(0, other.Services.GetRequiredService<DashboardMetrics>().UpdatesSent);
        Assert.True(publisher.Services.GetRequiredService<DashboardMetrics>().UpdatesSent > 0);
    }

    [Fact]
    public async Task Without_the_backplane_a_dashboard_on_the_other_node_would_miss_the_update()
    {
        var (publisher, other) = await TwoNodesAsync(backplane: false);
        var clinic = PlatformFixture.NewClinic();
        await using var dashboard = await DashboardConnection.OpenAsync(other.Address, other.Token(Roles.Manager, clinic));
        await dashboard.WatchAsync(clinic);
        await using var onPublisher = await DashboardConnection.OpenAsync(publisher.Address, publisher.Token(Roles.Manager, clinic));
        await onPublisher.WatchAsync(clinic);

        await publisher.PushAsync(clinic, Episodes.Opened(publisher.Services.GetRequiredService<Platform.Dashboard.Computing.DashboardReader>().Today(),
            0, sessions: [(0, 7, 4)]));

        await onPublisher.NextAsync(f => f.Activity.SessionsToday == 1, TimeSpan.FromSeconds(30));
        Assert.Empty(await dashboard.CollectAsync(TimeSpan.FromSeconds(3)));
    }
}

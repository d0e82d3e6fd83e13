using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Dashboard.Computing;
using MatOutcomes.Platform.Dashboard.Publishing;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>Two platform nodes on one database, as two app processes would be. Wolverine runs the
/// outcome projection on one of them; every node follows the read models into its own cube, so a
/// dashboard connected to the other node gets every update from that node, once, with or without
/// a Redis backplane.</summary>
public class TwoNodeDashboardTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RedisServer? _redis;
    private readonly List<KestrelPlatform> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        if (_redis is not null) await _redis.DisposeAsync();
    }

    private async Task<(KestrelPlatform Projecting, KestrelPlatform Other)> TwoNodesAsync(IReadOnlyDictionary<string, string?>? settings)
    {
        var database = await TestCluster.NewDatabaseAsync("twonodes");
        var nodes = await Task.WhenAll(KestrelPlatform.StartAsync(database, settings, waitForAgents: false),
            KestrelPlatform.StartAsync(database, settings, waitForAgents: false));
        _nodes.AddRange(nodes);

        // Wolverine elects a leader and hands the projection's agent to one node: wait for it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var running = nodes.Where(n => n.RunningAgents().Any(uri => uri.Contains($"/{OutcomesProjection.Name}/"))).ToList();
            if (running.Count == 1)
            {
                output.WriteLine($"the projection runs on {running[0].Address}");
                return (running[0], nodes.Single(n => n != running[0]));
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("no single node runs the projection: " +
                                           string.Join(" | ", nodes.Select(n => string.Join(", ", n.RunningAgents()))));
            await Task.Delay(250);
        }
    }

    private static Task PushSessionAsync(KestrelPlatform node, string clinic) =>
        node.PushAsync(clinic, Episodes.Opened(node.Services.GetRequiredService<DashboardReader>().Today(), 0, sessions: [(0, 7, 4)]));

    [Fact]
    public async Task A_dashboard_on_the_node_without_the_projection_gets_the_update_from_its_own_node()
    {
        var (projecting, other) = await TwoNodesAsync(null);
        var clinic = PlatformFixture.NewClinic();
        await using var dashboard = await DashboardConnection.OpenAsync(other.Address, other.Token(Roles.Manager, clinic));
        Assert.Equal(0, (await dashboard.WatchAsync(clinic)).Activity.SessionsToday);

        await PushSessionAsync(projecting, clinic);

        var update = await dashboard.NextAsync(f => f.Activity.SessionsToday == 1, TimeSpan.FromSeconds(30));
        Assert.Equal(clinic, update.Clinic);
        Assert.True(other.Services.GetRequiredService<DashboardMetrics>().UpdatesSent > 0);
        // Nobody watches on the projecting node: it computed and sent nothing.
        Assert.Equal(0, projecting.Services.GetRequiredService<DashboardMetrics>().UpdatesSent);
    }

    [Fact]
    public async Task With_a_Redis_backplane_each_dashboard_gets_each_update_once()
    {
        _redis = await RedisServer.StartAsync();
        var (projecting, other) = await TwoNodesAsync(new Dictionary<string, string?> { ["SignalR:Redis"] = _redis.ConnectionString });
        var clinic = PlatformFixture.NewClinic();
        await using var here = await DashboardConnection.OpenAsync(projecting.Address, projecting.Token(Roles.Manager, clinic));
        await using var there = await DashboardConnection.OpenAsync(other.Address, other.Token(Roles.Manager, clinic));
        await here.WatchAsync(clinic);
        await there.WatchAsync(clinic);

        await PushSessionAsync(projecting, clinic);

        await here.NextAsync(f => f.Activity.SessionsToday == 1, TimeSpan.FromSeconds(30));
        await there.NextAsync(f => f.Activity.SessionsToday == 1, TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(await here.CollectAsync(TimeSpan.FromSeconds(2)), f => f.Activity.SessionsToday == 1);
        Assert.DoesNotContain(await there.CollectAsync(TimeSpan.FromSeconds(2)), f => f.Activity.SessionsToday == 1);
    }
}

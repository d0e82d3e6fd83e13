using Marten;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>Two app processes on one database share the projection work through Wolverine;
/// when the one running the outcome projection goes away, the other takes it over and the read
/// models catch up with what arrived after.</summary>
public class FailoverTests
{
    private sealed class Node(string database) : PlatformFixture
    {
        public override Task InitializeAsync()
        {
            ExistingDatabaseOverride = database;
            FasterAgents = true;
            return base.InitializeAsync();
        }

        public bool RunsOutcomes => Host.RunningAgents().Any(uri => uri.ToString().Contains(OutcomesProjection.Name, StringComparison.OrdinalIgnoreCase));
    }

    private static NetworkOptions Part(int seed) => new() { Clinics = 3, Episodes = 120, Seed = seed, Months = 6, Today = new DateOnly(2026, 11, 1) };

    [Fact]
    public async Task When_the_node_running_the_projection_stops_the_other_takes_over_and_catches_up()
    {
        var database = await TestCluster.NewDatabaseAsync("failover");
        var nodes = new[] { new Node(database), new Node(database) };
        foreach (var node in nodes) await node.InitializeAsync();
        try
        {
            await new NetworkFixture.Pusher(nodes[0]).PushAsync(NetworkGenerator.Generate(Part(1)));
            await new NetworkFixture.Pusher(nodes[1]).WaitForOutcomesAsync();

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (nodes.Count(n => n.RunsOutcomes) != 1 && DateTime.UtcNow < deadline) await Task.Delay(200);
            var holder = Assert.Single(nodes, n => n.RunsOutcomes);
            var survivor = nodes.Single(n => n != holder);

            await holder.DisposeAsync();
            var second = NetworkGenerator.Generate(Part(2));
            await new NetworkFixture.Pusher(survivor).PushAsync(second);
            await new NetworkFixture.Pusher(survivor).WaitForOutcomesAsync(TimeSpan.FromSeconds(90));

            Assert.True(survivor.RunsOutcomes);
            await using var session = survivor.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
            var cells = await session.Query<OutcomeCell>().ToListAsync();
            var events = await session.Events.QueryAllRawEvents().Where(e => e.AnyTenant()).OrderBy(e => e.Sequence).ToListAsync();
            ProjectionConsistencyTests.AssertSameCells(OutcomeLedger.Replay(events).Cells.Values, cells);
        }
        finally
        {
            foreach (var node in nodes)
                try { await node.DisposeAsync(); } catch (ObjectDisposedException) { }
        }
    }
}

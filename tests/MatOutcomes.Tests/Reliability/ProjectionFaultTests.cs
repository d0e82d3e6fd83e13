using System.Net.Http.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Simulator.Sync;
using MatOutcomes.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Reliability;

/// <summary>Two platform processes share one database. The one Wolverine gave the outcome
/// projection is SIGKILLed while the projection is part-way through a large backlog; the other
/// takes the projection over, and the read models it finishes equal a replay of the log.</summary>
public class ProjectionFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task When_the_node_running_the_projection_dies_mid_batch_the_other_finishes_it_and_equals_a_replay()
    {
        var database = await TestCluster.NewDatabaseAsync(nameof(ProjectionFaultTests));
        // Started one after the other, so Wolverine numbers them 1 and 2.
        // Free ports (other checkouts on the machine may run these tests at the same time).
        var ports = new HashSet<int>();
        while (ports.Count < 2) ports.Add(Dashboard.KestrelPlatform.FreePort());
        var nodes = ports.Select(port => new ChildPlatform(database, port)).ToArray();
        await nodes[0].StartAsync();
        await nodes[1].StartAsync();
        try
        {
            var holder = await HolderAsync(database, TimeSpan.FromSeconds(60));
            var (victim, survivor) = holder == 1 ? (nodes[0], nodes[1]) : (nodes[1], nodes[0]);

            var network = NetworkGenerator.Generate(new NetworkOptions
                { Clinics = 3, Episodes = 700, Seed = 53, Months = 6, Today = new DateOnly(2026, 11, 1) });
            // Pushed to the survivor; the victim is killed as soon as its projection is part-way through.
            using var client = survivor.Client(survivor.Token(Roles.Clinic, [.. network.Clinics.Select(c => c.Id)]));
            var sync = new SyncRunner(_ => client, new SyncRunOptions
                { OnlineWindowDays = 100_000, OfflineWindowDays = 100_000, LostAckRate = 0 }).RunAsync(network);

            using var status = survivor.Client(survivor.Token(Roles.Admin));
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (true)
            {
                var progress = (await status.GetFromJsonAsync<ProjectionStatus>("api/projections/outcomes", ProtocolJson.Options))!;
                if ((progress.OutcomesSequence > 0 && progress.LagEvents > 0) || (sync.IsCompleted && progress.LagEvents == 0) || DateTime.UtcNow > deadline)
                {
                    Assert.True(progress.LagEvents > 0, $"the projection was never behind: {progress}");
                    await victim.KillAsync();
                    output.WriteLine($"killed node {holder} at {progress}");
                    break;
                }
                await Task.Delay(50);
            }
            Assert.Empty((await sync).Refusals);

            await Invariants.AssertAllAsync(database, network, survivor);
            Assert.NotEqual(holder, await HolderAsync(database, TimeSpan.FromSeconds(30)));
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n--- node 1 ---\n{nodes[0].Tail(15)}\n--- node 2 ---\n{nodes[1].Tail(15)}");
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    /// <summary>The Wolverine node number running the outcome projection, once one does.</summary>
    private static async Task<int> HolderAsync(string database, TimeSpan within)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            await using var query = new NpgsqlCommand(
                "select n.node_number from matoutcomes.wolverine_node_assignments a join matoutcomes.wolverine_nodes n on n.id = a.node_id " +
                $"where a.id like '%/{OutcomesProjection.Name}/%'", connection);
            if (await query.ExecuteScalarAsync() is int number) return number;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("no node runs the outcome projection");
            await Task.Delay(200);
        }
    }
}

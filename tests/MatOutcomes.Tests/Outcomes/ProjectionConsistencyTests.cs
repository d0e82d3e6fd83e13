using System.Net.Http.Json;
using JasperFx.Events;
using Marten;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>The cells the async projection builds incrementally, however the events arrived,
/// equal the cells rebuilt from the event log.</summary>
public class ProjectionConsistencyTests(ProjectionConsistencyTests.EmptyNetwork platform) : IClassFixture<ProjectionConsistencyTests.EmptyNetwork>
{
    /// <summary>Starts empty: each test pushes its own data.</summary>
    public sealed class EmptyNetwork : NetworkFixture
    {
        protected override NetworkOptions Options => base.Options with { Episodes = 0 };
        public override Task InitializeAsync() => InitializeHostAsync();
    }

    private IDocumentStore Store => platform.Host.Services.GetRequiredService<IDocumentStore>();

    private async Task<List<OutcomeCell>> LiveCells()
    {
        await using var session = Store.QuerySession();
        return [.. await session.Query<OutcomeCell>().ToListAsync()];
    }

    private async Task<IReadOnlyCollection<OutcomeCell>> ReplayedCells()
    {
        await using var session = Store.QuerySession();
        var events = await session.Events.QueryAllRawEvents().Where(e => e.AnyTenant()).OrderBy(e => e.Sequence).ToListAsync();
        return [.. OutcomeLedger.Replay(events).Cells.Values];
    }

    /// <summary>Same non-empty cells with identical statistics: every sum is an integer (or fixed
    /// point), so equal means bit for bit, whatever order the episodes came and went in.</summary>
    internal static void AssertSameCells(IEnumerable<OutcomeCell> expected, IEnumerable<OutcomeCell> actual)
    {
        var a = expected.Where(c => c.Episodes > 0).ToDictionary(c => c.Id);
        var b = actual.Where(c => c.Episodes > 0).ToDictionary(c => c.Id);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (id, x) in a)
        {
            var y = b[id];
            Assert.Equal(x.Key, y.Key);
            Assert.True(x.Stats.SameAs(y.Stats), $"cell {id} differs");
        }
    }

    /// <summary>The in-memory cube the node serves from holds exactly the stored cells.</summary>
    internal static async Task AssertCubeHoldsAsync(IServiceProvider services, IEnumerable<OutcomeCell> cells)
    {
        var cube = services.GetRequiredService<OutcomeCube>();
        long sequence;
        await using (var session = services.GetRequiredService<IDocumentStore>().QuerySession())
            sequence = await OutcomesProjection.SequenceAsync(session, CancellationToken.None);
        await cube.WaitForAsync(sequence, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        var snapshot = await cube.CurrentAsync(CancellationToken.None);
        var held = new List<OutcomeCell>();
        foreach (var cell in snapshot.Fine.Cells)
            held.Add(OutcomeCell.Of(CubeKeys.Unpack(cell.Key, snapshot.Clinics), cell.Stats, snapshot.Sequence));
        AssertSameCells(cells, held);
    }

    /// <summary>Pushes a network the hard way: every episode cut into chunks, chunks sent in a
    /// random order across episodes (so some arrive before their predecessors and bounce as gaps
    /// until those land), some chunks re-sent after they landed, with pauses so the projection
    /// sees the events in batches of every size.</summary>
    private async Task PushOutOfOrder(SimulatedNetwork network, Random random)
    {
        using var client = platform.Client(platform.Token(Roles.Clinic, [.. network.Clinics.Select(c => c.Id)]));
        var pending = network.Episodes.SelectMany(e =>
        {
            var cuts = Enumerable.Range(1, e.Events.Count - 1).Where(_ => random.NextDouble() < 0.3).Prepend(0).Append(e.Events.Count).ToList();
            return cuts.Zip(cuts.Skip(1), (from, to) => (e.ClinicId, Upload: new EpisodeUpload(e.Id, e.Events.Skip(from).Take(to - from).Select(t => t.Envelope).ToList())));
        }).ToList();
        var landed = new List<(string ClinicId, EpisodeUpload Upload)>();

        for (var round = 0; pending.Count > 0; round++)
        {
            Assert.True(round < 500, "pushes did not converge");
            var chosen = pending.OrderBy(_ => random.Next()).Take(random.Next(1, 12)).ToList();
            if (landed.Count > 0 && random.NextDouble() < 0.2) chosen.Add(landed[random.Next(landed.Count)]);
            foreach (var clinic in chosen.GroupBy(c => c.ClinicId))
            {
                var uploads = clinic.GroupBy(c => c.Upload.EpisodeId).Select(g => g.First()).ToList();
                var response = await client.PostAsJsonAsync($"/api/clinics/{clinic.Key}/events",
                    new PushBatch([.. uploads.Select(u => u.Upload)]), ProtocolJson.Options);
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                var ack = (await response.Content.ReadFromJsonAsync<PushAcknowledgement>(ProtocolJson.Options))!;
                foreach (var (episode, sent) in ack.Episodes.Zip(uploads))
                {
                    Assert.NotEqual(EpisodeSyncStatus.Conflict, episode.Status);
                    if (episode.Status is EpisodeSyncStatus.Appended or EpisodeSyncStatus.Duplicate && pending.Remove(sent))
                        landed.Add(sent);
                }
            }
            if (random.NextDouble() < 0.15) await Task.Delay(random.Next(50, 400));
        }
    }

    [Fact]
    public async Task Incremental_cells_equal_a_rebuild_from_the_log_after_corrections_out_of_order_pushes_and_retries()
    {
        for (var seed = 1; seed <= 4; seed++)
        {
            var random = new Random(seed);
            var network = NetworkGenerator.Generate(new NetworkOptions
            {
                Clinics = 2, Episodes = 30, Seed = 100 + seed, Months = 4, CorrectionRate = 0.25,
                Today = new DateOnly(2026, 11, 1),
            });
            Assert.Contains(network.Episodes.SelectMany(e => e.Events), e => e.Data is MatOutcomes.Contracts.Episodes.EntryVoided);

            await PushOutOfOrder(network, random);
            await platform.WaitForOutcomesAsync();

            var live = await LiveCells();
            AssertSameCells(await ReplayedCells(), live);
            await AssertCubeHoldsAsync(platform.Host.Services, live);
        }
    }
}

/// <summary>Rebuilds through the command line, run as operators would: with the app stopped (a
/// projection must not be rebuilt while live nodes still run it). Marten's own replay and the
/// platform's one-pass rebuild (in the platform, and as the standalone tool) must all give the
/// live cells and episode summaries exactly.</summary>
public class CommandLineRebuildTests
{
    [Theory]
    [InlineData("projections rebuild -p outcomes")]
    [InlineData("rebuild-outcomes")]
    // Every clinic's cells written as soon as the read passes it, between runs of summaries.
    [InlineData("rebuild-outcomes --cells-per-flush 1")]
    // The same rebuild as a batch tool of its own (MatOutcomes.Rebuild), with either flush.
    [InlineData("tool")]
    [InlineData("tool --cells-per-flush 1")]
    public async Task A_rebuild_through_the_command_line_gives_cells_and_summaries_identical_to_the_live_ones(string command)
    {
        List<OutcomeCell> live = [];
        List<(string Id, string Data)> liveSummaries = [];
        var platform = await StoppedAfterAsync(new NetworkOptions { Clinics = 3, Episodes = 150, Seed = 77, Months = 6, Today = new DateOnly(2026, 11, 1) },
            async running =>
            {
                live = await Cells(running);
                liveSummaries = await Summaries(running.ConnectionString);
                // Lose the read models, so only a real rebuild can bring them back.
                await using var session = running.Host.Services.GetRequiredService<IDocumentStore>().LightweightSession();
                session.DeleteWhere<OutcomeCell>(_ => true);
                session.DeleteWhere<EpisodeSummary>(_ => true);
                session.DeleteWhere<ClinicTally>(_ => true);
                await session.SaveChangesAsync();
            });

        var (exitCode, output, error) = await RunAsync(command, platform.ConnectionString);
        Assert.True(exitCode == 0, output + error);
        // The summaries are the state the projection goes on from: each must come back as it was.
        Assert.Equal(liveSummaries, await Summaries(platform.ConnectionString));

        var restarted = new PlatformFixture { ExistingDatabase = platform.ConnectionString };
        await restarted.InitializeAsync();
        try
        {
            var rebuilt = await Cells(restarted);
            await ProjectionConsistencyTests.AssertCubeHoldsAsync(restarted.Host.Services, rebuilt);
            Assert.True(live.Sum(c => c.Episodes) == rebuilt.Sum(c => c.Episodes),
                $"live {live.Count} cells / {live.Sum(c => c.Episodes)} episodes, rebuilt {rebuilt.Count} / {rebuilt.Sum(c => c.Episodes)}\n{output}\n{error}");
            ProjectionConsistencyTests.AssertSameCells(live, rebuilt);
        }
        finally
        {
            await restarted.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("rebuild-outcomes --cells-per-flush 0")]
    [InlineData("tool --cells-per-flush 0")]
    public async Task A_rebuild_asked_to_flush_fewer_than_one_cell_is_refused_and_changes_nothing(string command)
    {
        List<(string Id, string Data)> before = [];
        var platform = await StoppedAfterAsync(new NetworkOptions { Clinics = 2, Episodes = 30, Seed = 78, Months = 3, Today = new DateOnly(2026, 11, 1) },
            async running => before = await Summaries(running.ConnectionString));
        Assert.NotEmpty(before);

        var (exitCode, output, error) = await RunAsync(command, platform.ConnectionString);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("--cells-per-flush must be at least 1", output + error);
        Assert.Equal(before, await Summaries(platform.ConnectionString));
    }

    /// <summary>Runs a rebuild command to its end: "tool ..." is the standalone MatOutcomes.Rebuild,
    /// run from its own build output; anything else is a command of the platform.</summary>
    private static Task<(int ExitCode, string Output, string Errors)> RunAsync(string command, string connectionString)
    {
        var arguments = command.Split(' ');
        return arguments[0] == "tool"
            ? CommandLine.RunAsync(Repository.PathTo("services", "MatOutcomes.Rebuild", "bin", Configuration, "net10.0", "MatOutcomes.Rebuild.dll"),
                arguments[1..], connectionString, TimeSpan.FromMinutes(3))
            : CommandLine.RunAsync(typeof(Program).Assembly.Location, arguments, connectionString, TimeSpan.FromMinutes(3));
    }

    /// <summary>A platform with a network pushed and its outcomes caught up, then <paramref name="meanwhile"/>
    /// done while it still runs, then stopped (a rebuild runs with the app stopped).</summary>
    private static async Task<PlatformFixture> StoppedAfterAsync(NetworkOptions network, Func<PlatformFixture, Task> meanwhile)
    {
        var platform = new PlatformFixture();
        await platform.InitializeAsync();
        try
        {
            var pusher = new NetworkFixture.Pusher(platform);
            await pusher.PushAsync(NetworkGenerator.Generate(network));
            await pusher.WaitForOutcomesAsync();
            await meanwhile(platform);
        }
        finally
        {
            await platform.DisposeAsync();
        }
        return platform;
    }

    /// <summary>Debug or Release: the tests' own build configuration, which the solution built the tool in too.</summary>
    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    private static async Task<List<(string Id, string Data)>> Summaries(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            $"select id, data::text from {MatOutcomes.Platform.Storage.EventStoreExtensions.Schema}.mt_doc_episodesummary order by id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var summaries = new List<(string, string)>();
        while (await reader.ReadAsync()) summaries.Add((reader.GetString(0), reader.GetString(1)));
        return summaries;
    }

    private static async Task<List<OutcomeCell>> Cells(PlatformFixture platform)
    {
        await using var session = platform.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        return [.. await session.Query<OutcomeCell>().ToListAsync()];
    }
}

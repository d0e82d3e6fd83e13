using System.Text.Json;
using Marten;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Releasing;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>A release is stored as a few chunks of cells in column form; a node that starts after
/// the cut loads it from them and must serve exactly what the cutting node serves.</summary>
public class ReleaseStorageTests
{
    private sealed class Node(string database) : PlatformFixture
    {
        public override Task InitializeAsync()
        {
            ExistingDatabaseOverride = database;
            return base.InitializeAsync();
        }
    }

    [Fact]
    public async Task A_node_started_after_a_cut_loads_the_stored_release_and_answers_as_the_cutting_node_does()
    {
        var database = await TestCluster.NewDatabaseAsync("release-storage");
        var first = new Node(database);
        await first.InitializeAsync();
        Node? second = null;
        try
        {
            await new NetworkFixture.Pusher(first).PushAsync(NetworkGenerator.Generate(new NetworkOptions
            {
                Clinics = 4, Episodes = 1500, Seed = 20261125, Months = 12, Today = new DateOnly(2026, 11, 1),
            }));
            await new NetworkFixture.Pusher(first).WaitForOutcomesAsync();
            var cut = await first.Host.Services.GetRequiredService<Releases>().CutAsync(CancellationToken.None);

            second = new Node(database);
            await second.InitializeAsync();
            var loaded = await second.Host.Services.GetRequiredService<Releases>().LatestAsync(CancellationToken.None);

            Assert.Equal((cut.Number, cut.Sequence), (loaded.Number, loaded.Sequence));
            Assert.True(cut.Cube.Fine.Count > ReleasedCells.ChunkSize / 64, $"only {cut.Cube.Fine.Count} cells");
            Assert.Equal(Cells(cut), Cells(loaded));

            // The starting node's live cube holds the cells the release holds unchanged as the
            // release's own objects, not as second copies, and holds what the cutting node holds.
            var live = await second.Host.Services.GetRequiredService<OutcomeCube>().CurrentAsync(CancellationToken.None);
            var cutting = await first.Host.Services.GetRequiredService<OutcomeCube>().CurrentAsync(CancellationToken.None);
            Assert.Equal(Cells(cutting.Fine, cutting.Clinics), Cells(live.Fine, live.Clinics));
            var released = new Dictionary<long, MatOutcomes.Platform.Outcomes.Projecting.CellStats>();
            foreach (var cell in loaded.Cube.Fine.Cells) released[cell.Key] = cell.Stats;
            var shared = 0;
            foreach (var cell in live.Fine.Cells)
                if (released.TryGetValue(cell.Key, out var stats) && ReferenceEquals(cell.Stats, stats)) shared++;
            Assert.Equal(released.Count, shared);

            await using (var session = first.Host.Services.GetRequiredService<IDocumentStore>().QuerySession())
            {
                var chunks = await session.Query<ReleasedCells>().Where(c => c.Release == cut.Number).ToListAsync();
                Assert.Equal((cut.Cube.Fine.Count + ReleasedCells.ChunkSize - 1) / ReleasedCells.ChunkSize, chunks.Count);
            }

            var k = 11;
            var answered = 0;
            foreach (var query in new[]
                     {
                         new StudyQuery(), new StudyQuery { ChronicFromWeeks = 26, NprsMcidPoints = 3 },
                         new StudyQuery { Regions = [MatOutcomes.Contracts.Episodes.ComplaintRegion.LowBack] },
                     })
            {
                var served = JsonSerializer.Serialize(StudyCalculator.Compare(loaded.Cube, loaded.Disclosure, query, k));
                Assert.Equal(JsonSerializer.Serialize(StudyCalculator.Compare(cut.Cube, cut.Disclosure, query, k)), served);
                if (served.StartsWith($"{{\"Sequence\":{cut.Sequence},\"K\":{k},\"Suppressed\":false", StringComparison.Ordinal)) answered++;
            }
            Assert.True(answered >= 2, $"{answered} of 3 studies answered: the check needs figures to compare");

            // A release stored by an earlier build (no chunks in this form) is rebuilt from the log.
            await using (var session = first.Host.Services.GetRequiredService<IDocumentStore>().LightweightSession())
            {
                session.DeleteWhere<ReleasedCells>(_ => true);
                await session.SaveChangesAsync();
            }
            var third = new Node(database);
            await third.InitializeAsync();
            try
            {
                var replayed = await third.Host.Services.GetRequiredService<Releases>().LatestAsync(CancellationToken.None);
                Assert.Equal((cut.Number, cut.Sequence), (replayed.Number, replayed.Sequence));
                Assert.Equal(Cells(cut), Cells(replayed));
            }
            finally
            {
                await third.DisposeAsync();
            }

            // Many chunks (the network above fills one): each chunk's slot offsets start at its own cells.
            var fine = new List<(long, MatOutcomes.Platform.Outcomes.Projecting.CellStats)>();
            foreach (var cell in cut.Cube.Fine.Cells) fine.Add((cell.Key, cell.Stats));
            var chunked = ReleasedCells.Of(cut.Number, fine, cut.Cube.Clinics, chunkSize: 97).ToList();
            Assert.Equal((fine.Count + 96) / 97, chunked.Count);
            var back = chunked.SelectMany(c => c.Cells()).ToList();
            Assert.Equal(fine.Count, back.Count);
            for (var i = 0; i < fine.Count; i++)
            {
                Assert.Equal(MatOutcomes.Platform.Outcomes.Cube.CubeKeys.Unpack(fine[i].Item1, cut.Cube.Clinics).Id, back[i].Key.Id);
                Assert.True(fine[i].Item2.SameAs(back[i].Stats), $"cell {i} differs after chunking");
            }
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null) await second.DisposeAsync();
        }
    }

    /// <summary>Every fine cell as (clinic name, the rest of its key, its statistics), in key order:
    /// the two nodes may number clinics differently.</summary>
    private static List<string> Cells(ReleaseSnapshot release) => Cells(release.Cube.Fine, release.Cube.Clinics);

    private static List<string> Cells(MatOutcomes.Platform.Outcomes.Cube.CubeTable table, IReadOnlyList<string> clinics)
    {
        var cells = new List<string>();
        foreach (var cell in table.Cells)
        {
            if (cell.Stats.IsEmpty && cell.Stats.Slots.Length == 0) continue;
            var key = MatOutcomes.Platform.Outcomes.Cube.CubeKeys.Unpack(cell.Key, clinics);
            var s = cell.Stats;
            cells.Add($"{key.Id} {s.Episodes} {s.Relief} {s.Odi} {string.Join(",", s.Slots)} {string.Join(",", s.Counts)}");
        }
        cells.Sort(StringComparer.Ordinal);
        return cells;
    }
}

using System.Net.Http.Json;
using Marten;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Storage;
using MatOutcomes.Simulator.Network;
using Microsoft.Extensions.DependencyInjection;
using Weasel.Core;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>The stored read models hold a cell key as its id; read models stored before, with
/// the key spelled out field by field, still read and go on being updated exactly.</summary>
public class CellKeyStorageTests(ProjectionConsistencyTests.EmptyNetwork platform) : IClassFixture<ProjectionConsistencyTests.EmptyNetwork>
{
    public static TheoryData<string> Clinics => ["clinic-a", "old|clinic|id"];

    [Theory]
    [MemberData(nameof(Clinics))]
    public void Every_key_is_parsed_back_from_its_id(string clinic)
    {
        var keys = 0;
        foreach (var format in Enum.GetValues<FormatClass>())
        foreach (var completed in new[] { false, true })
        foreach (var duration in Enum.GetValues<PainDuration>())
        foreach (var region in Enum.GetValues<ComplaintRegion>())
        foreach (var occupation in Enum.GetValues<OccupationGroup>())
        foreach (var ageBand in Enum.GetValues<AgeBand>())
        foreach (var sex in Enum.GetValues<Sex>())
        {
            var key = new CellKey(clinic, "2026Q3", format, completed, duration, region, occupation, ageBand, sex);
            Assert.Equal(key, CellKey.Parse(key.Id));
            keys++;
        }
        Assert.Equal(3 * 2 * 5 * Enum.GetValues<ComplaintRegion>().Length * Enum.GetValues<OccupationGroup>().Length * 6 * 4, keys);
    }

    [Theory]
    [InlineData("clinic")]
    [InlineData("clinic|2026Q3|1|0|2|2|0|2")]
    [InlineData("clinic|2026Q3|1|0|2|2|0|2|x")]
    [InlineData("clinic|2026Q3|1|0|2|2|0|2|-1")]
    public void A_string_that_is_not_a_cell_id_is_refused(string id) =>
        Assert.ThrowsAny<FormatException>(() => CellKey.Parse(id));

    [Fact]
    public void The_store_writes_a_key_as_its_id_and_reads_it_either_way()
    {
        var serializer = Store.Options.Serializer();
        var key = new CellKey("clinic-a", "2026Q3", FormatClass.WithinMassage, true, PainDuration.From26To51, ComplaintRegion.Neck,
            OccupationGroup.RepetitiveManual, AgeBand.From70, Sex.Male);
        Assert.Equal($"\"{key.Id}\"", serializer.ToJson(key));
        var spelled = Spelled().ToJson(key);
        Assert.StartsWith("{", spelled);
        Assert.Contains("\"sex\":\"Male\"", spelled);
        Assert.Equal(key, serializer.FromJson<CellKey>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(spelled))));
    }

    [Fact]
    public async Task Summaries_and_cells_stored_with_spelled_out_keys_go_on_updating_exactly()
    {
        var network = NetworkGenerator.Generate(new NetworkOptions
        {
            Clinics = 2, Episodes = 40, Seed = 4242, Months = 4, CorrectionRate = 0.2, Today = new DateOnly(2026, 11, 1),
        });
        // Half of every episode first; the read models are then rewritten as they were stored
        // before keys were ids, and the rest of every episode changes them from there.
        await PushAsync(network, e => e.Events.Take((e.Events.Count + 1) / 2));
        await platform.WaitForOutcomesAsync();
        var rewritten = await SpellOutKeysAsync(network);
        Assert.True(rewritten > 40, $"only {rewritten} read models rewritten");

        await PushAsync(network, e => e.Events.Skip((e.Events.Count + 1) / 2));
        await platform.WaitForOutcomesAsync();

        await using var session = Store.QuerySession();
        var live = (await session.Query<OutcomeCell>().ToListAsync()).Where(c => network.Clinics.Any(k => k.Id == c.Key.Clinic)).ToList();
        var events = await session.Events.QueryAllRawEvents().Where(e => e.AnyTenant()).OrderBy(e => e.Sequence).ToListAsync();
        var replayed = OutcomeLedger.Replay(events).Cells.Values.Where(c => network.Clinics.Any(k => k.Id == c.Key.Clinic));
        ProjectionConsistencyTests.AssertSameCells(replayed, live);
        await ProjectionConsistencyTests.AssertCubeHoldsAsync(platform.Host.Services, await session.Query<OutcomeCell>().ToListAsync());
    }

    private IDocumentStore Store => platform.Host.Services.GetRequiredService<IDocumentStore>();

    /// <summary>The store's serializer as it was configured before keys were ids.</summary>
    private static Marten.ISerializer Spelled()
    {
        var options = new StoreOptions();
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
        return options.Serializer();
    }

    private async Task PushAsync(SimulatedNetwork network, Func<SimulatedEpisode, IEnumerable<TimedEvent>> part)
    {
        using var client = platform.Client(platform.Token(Roles.Clinic, [.. network.Clinics.Select(c => c.Id)]));
        foreach (var clinic in network.Episodes.GroupBy(e => e.ClinicId))
        {
            var uploads = clinic.Select(e => new EpisodeUpload(e.Id, [.. part(e).Select(t => t.Envelope)])).Where(u => u.Events.Count > 0).ToList();
            var response = await client.PostAsJsonAsync($"/api/clinics/{clinic.Key}/events", new PushBatch(uploads), ProtocolJson.Options);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var ack = (await response.Content.ReadFromJsonAsync<PushAcknowledgement>(ProtocolJson.Options))!;
            Assert.All(ack.Episodes, e => Assert.Equal(EpisodeSyncStatus.Appended, e.Status));
        }
    }

    /// <summary>Rewrites the network's summaries and cells with their keys spelled out, as they were
    /// stored before; returns how many rows now hold a spelled-out key.</summary>
    private async Task<int> SpellOutKeysAsync(SimulatedNetwork network)
    {
        var clinics = network.Clinics.Select(c => c.Id).ToArray();
        var spelled = Spelled();
        await using var session = Store.LightweightSession();
        var summaries = (await session.Query<EpisodeSummary>().ToListAsync()).Where(s => clinics.Contains(s.Clinic)).ToList();
        var cells = (await session.Query<OutcomeCell>().ToListAsync()).Where(c => clinics.Contains(c.Key.Clinic)).ToList();
        await using var connection = new Npgsql.NpgsqlConnection(platform.ConnectionString);
        await connection.OpenAsync();
        foreach (var (table, id, json) in summaries.Select(s => ("mt_doc_episodesummary", s.Id, spelled.ToJson(s)))
                     .Concat(cells.Select(c => ("mt_doc_outcomecell", c.Id, spelled.ToJson(c)))))
        {
            await using var update = new Npgsql.NpgsqlCommand(
                $"update {EventStoreExtensions.Schema}.{table} set data = $1::jsonb where id = $2", connection)
            {
                Parameters = { new() { Value = json }, new() { Value = id } },
            };
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }
        await using var count = new Npgsql.NpgsqlCommand(
            $"""
             select (select count(*) from {EventStoreExtensions.Schema}.mt_doc_episodesummary where jsonb_typeof(data -> 'contribution' -> 'key') = 'object')
                  + (select count(*) from {EventStoreExtensions.Schema}.mt_doc_outcomecell where jsonb_typeof(data -> 'key') = 'object')
             """, connection);
        return Convert.ToInt32(await count.ExecuteScalarAsync());
    }
}

using System.Net;
using System.Text.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Support;
using Npgsql;

namespace MatOutcomes.Tests.Reliability;

/// <summary>The sync protocol's promise for a 5xx: "outcome unknown, re-send the same batch". Here
/// the platform's database connection drops right after it sent COMMIT, so the push is stored yet
/// answered 503; the re-send is acknowledged as a duplicate and the store holds every event once.</summary>
public class OutcomeUnknownTests
{
    [Fact]
    public async Task A_push_whose_commit_answer_was_lost_gets_503_and_its_resend_is_acknowledged_as_duplicate()
    {
        var database = await TestCluster.NewDatabaseAsync(nameof(OutcomeUnknownTests));
        var direct = new NpgsqlConnectionStringBuilder(database);
        await using var cutter = new CommitCutter(direct.Port);
        var platform = new PlatformFixture { ExistingDatabase = new NpgsqlConnectionStringBuilder(database) { Port = cutter.Port }.ConnectionString };
        await platform.InitializeAsync();
        try
        {
            var clinic = PlatformFixture.NewClinic();
            var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session(1), Sample.Session(2));
            using var client = platform.Client(platform.ClinicToken(clinic));

            cutter.Arm(clinic);
            var first = await client.PostAsync($"api/clinics/{clinic}/events", PlatformFixture.Json(episode.Batch()));

            Assert.Equal(1, cutter.Cuts);
            Assert.True(first.StatusCode == HttpStatusCode.ServiceUnavailable, await first.Content.ReadAsStringAsync());
            Assert.True(first.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Equal(3, await StoredAsync(direct.ConnectionString, clinic));

            var again = await client.PostAsync($"api/clinics/{clinic}/events", PlatformFixture.Json(episode.Batch()));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            var ack = JsonSerializer.Deserialize<PushAcknowledgement>(await again.Content.ReadAsStringAsync(), ProtocolJson.Options)!;
            var only = Assert.Single(ack.Episodes);
            Assert.Equal((EpisodeSyncStatus.Duplicate, 0, 3), (only.Status, only.Appended, only.Duplicates));

            await Invariants.AssertStoreAsync(direct.ConnectionString, new SimulatedNetwork(new NetworkOptions(),
                [new SimulatedClinic(clinic, false, 1, [new SimulatedEpisode(episode.Id, clinic,
                    [.. episode.Events.Select(e => new TimedEvent(Sample.Start, e, e.Data))])])]));
        }
        finally
        {
            await platform.DisposeAsync();
        }
    }

    private static async Task<long> StoredAsync(string connectionString, string clinic)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from matoutcomes.mt_events where tenant_id = $1", connection)
        {
            Parameters = { new() { Value = clinic } },
        };
        return (long)(await count.ExecuteScalarAsync())!;
    }
}

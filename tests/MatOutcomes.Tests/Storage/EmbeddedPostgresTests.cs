using MatOutcomes.Platform.Storage;
using Npgsql;

namespace MatOutcomes.Tests.Storage;

/// <summary>Two users of one embedded data folder: the second adopts the running cluster and
/// must leave it running; only the one that started it stops it.</summary>
public class EmbeddedPostgresTests
{
    [Fact]
    public async Task A_user_that_adopted_a_running_cluster_leaves_it_running_and_the_one_that_started_it_stops_it()
    {
        var folder = Path.Combine(Path.GetTempPath(), "matoutcomes-pg", $"adopt-{Guid.NewGuid():N}");
        var first = await EmbeddedPostgres.StartAsync(folder, durable: false, deleteOnStop: true);
        var second = await EmbeddedPostgres.StartAsync(folder, durable: false, deleteOnStop: true);
        Assert.True(first.StartedHere);
        Assert.False(second.StartedHere);
        Assert.Equal(first.Port, second.Port);

        await second.DisposeAsync();
        Assert.Equal(1, await SelectOneAsync(first));
        Assert.True(File.Exists(Path.Combine(folder, "PG_VERSION")));

        await first.DisposeAsync();
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => SelectOneAsync(first));
        Assert.False(Directory.Exists(folder));
    }

    private static async Task<int> SelectOneAsync(EmbeddedPostgres cluster)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString() + ";Timeout=3");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select 1", connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }
}

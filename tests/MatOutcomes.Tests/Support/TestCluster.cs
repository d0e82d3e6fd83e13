using MatOutcomes.Platform.Storage;
using Npgsql;

namespace MatOutcomes.Tests.Support;

/// <summary>The PostgreSQL the tests run against: the server in MATOUTCOMES_TEST_POSTGRES when
/// set, else one private embedded cluster for the whole test run (the same code path as the
/// platform's embedded default). Each test class gets a database of its own.</summary>
public static class TestCluster
{
    private static readonly Lazy<Task<Func<string, string>>> Server = new(StartAsync);

    public static async Task<string> NewDatabaseAsync(string prefix)
    {
        var connectionFor = await Server.Value;
        var name = $"{prefix}_{Guid.NewGuid():N}"[..40].ToLowerInvariant();
        await using var connection = new NpgsqlConnection(connectionFor("postgres"));
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"create database \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return connectionFor(name);
    }

    private static async Task<Func<string, string>> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("MATOUTCOMES_TEST_POSTGRES") is { Length: > 0 } external)
            return database => new NpgsqlConnectionStringBuilder(external) { Database = database }.ConnectionString;

        var root = Path.Combine(Path.GetTempPath(), "matoutcomes-pg");
        await RemoveAbandonedAsync(root);
        var directory = Path.Combine(root, $"tests-{Environment.ProcessId}");
        var cluster = await EmbeddedPostgres.StartAsync(directory, durable: false, deleteOnStop: true);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return database => cluster.ConnectionString(database);
    }

    /// <summary>Clusters of earlier test runs whose process is gone: a run killed by a timeout never
    /// reached its exit handler, and its server would otherwise hold memory and a port for good.</summary>
    private static async Task RemoveAbandonedAsync(string root)
    {
        if (!Directory.Exists(root)) return;
        foreach (var folder in Directory.GetDirectories(root, "tests-*"))
        {
            if (!int.TryParse(Path.GetFileName(folder)["tests-".Length..], out var pid) || IsAlive(pid)) continue;
            await EmbeddedPostgres.RemoveAbandonedAsync(folder);
        }
    }

    private static bool IsAlive(int pid)
    {
        try { return !System.Diagnostics.Process.GetProcessById(pid).HasExited; }
        catch (ArgumentException) { return false; }
    }
}

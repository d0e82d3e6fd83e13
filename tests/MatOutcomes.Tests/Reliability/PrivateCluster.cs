using System.Diagnostics;
using MatOutcomes.Platform.Storage;

namespace MatOutcomes.Tests.Reliability;

/// <summary>A PostgreSQL cluster of a test's own (the shared test cluster serves every other test
/// class, so it must never be stopped), which the test stops and starts again on the same port with
/// pg_ctl, as the postgres user when running as root.</summary>
public sealed class PrivateCluster : IAsyncDisposable
{
    private readonly EmbeddedPostgres _server;
    private readonly string _bin = EmbeddedPostgres.FindBinaries();

    private PrivateCluster(EmbeddedPostgres server) => _server = server;

    public string ConnectionString => _server.ConnectionString();

    public static async Task<PrivateCluster> StartAsync(string name)
    {
        var parent = Path.Combine(Path.GetTempPath(), "matoutcomes-pg");
        if (!Directory.Exists(parent))
        {
            // The postgres user must be able to enter it.
            Directory.CreateDirectory(parent);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(parent, (UnixFileMode)0b111_101_101);
        }
        var server = await EmbeddedPostgres.StartAsync(Path.Combine(parent, $"{name}-{Guid.NewGuid():N}"), durable: false, deleteOnStop: true);
        return new PrivateCluster(server);
    }

    /// <summary>pg_ctl stop -m fast: open connections are terminated, new ones refused.</summary>
    public Task StopAsync() => PgCtlAsync("-D", _server.DataDirectory, "-m", "fast", "-w", "stop");

    public Task StartAgainAsync() => PgCtlAsync("-D", _server.DataDirectory, "-o",
        $"-p {_server.Port} -k {_server.DataDirectory} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off",
        "-l", Path.Combine(_server.DataDirectory, "server.log"), "-w", "-t", "60", "start");

    private async Task PgCtlAsync(params string[] args)
    {
        var pgCtl = Path.Combine(_bin, "pg_ctl");
        var start = Environment.UserName == "root"
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", pgCtl, .. args])
            : new ProcessStartInfo(pgCtl, args);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"pg_ctl {string.Join(' ', args)}: {await error}");
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}

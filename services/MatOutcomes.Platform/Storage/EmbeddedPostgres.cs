using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace MatOutcomes.Platform.Storage;

/// <summary>A private PostgreSQL cluster run from the machine's installed binaries (initdb +
/// pg_ctl in a data folder, on a free loopback port). PostgreSQL refuses to run as root, so as
/// root the cluster is owned and run by the <c>postgres</c> user.</summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string DatabaseName = "matoutcomes";

    private readonly string _binDirectory;
    private readonly string _dataDirectory;
    private readonly bool _deleteOnStop;

    private EmbeddedPostgres(string binDirectory, string dataDirectory, int port, bool startedHere, bool deleteOnStop)
    {
        _binDirectory = binDirectory;
        _dataDirectory = dataDirectory;
        _deleteOnStop = deleteOnStop;
        Port = port;
        StartedHere = startedHere;
    }

    public int Port { get; }

    /// <summary>False when the cluster was already running (another process, or a killed run, started
    /// it): this instance then neither stops nor deletes it.</summary>
    public bool StartedHere { get; }
    public string DataDirectory => _dataDirectory;

    public string ConnectionString(string database = DatabaseName) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database,
        MaxPoolSize = 50, Timeout = 30,
    }.ConnectionString;

    /// <summary>Starts (or, if another process or a killed run left it running, adopts) the cluster in
    /// <paramref name="dataDirectory"/> and makes sure the platform's database exists.</summary>
    /// <param name="durable">false for throw-away test clusters: fsync off, much faster.</param>
    public static async Task<EmbeddedPostgres> StartAsync(string dataDirectory, bool durable, bool deleteOnStop,
        string? binDirectory = null, CancellationToken cancellation = default)
    {
        var bin = binDirectory ?? FindBinaries();
        Directory.CreateDirectory(dataDirectory);
        if (IsRoot)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", dataDirectory], asPostgres: false, cancellation);
            if (await RunAsync("test", ["-w", dataDirectory], asPostgres: true, cancellation, throwOnFailure: false) != 0)
                throw new InvalidOperationException(
                    $"PostgreSQL runs as the postgres user, which cannot reach {dataDirectory}: a parent folder is closed to it. " +
                    "Choose a Postgres:DataDirectory whose parent folders others may enter (the default is under the temp folder).");
        }

        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
            await RunAsync(Path.Combine(bin, "initdb"),
                ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"],
                asPostgres: IsRoot, cancellation);

        var running = await RunningPortAsync(bin, dataDirectory, cancellation);
        var (port, startedHere) = running is { } adopted ? (adopted, false) : await StartClusterAsync(bin, dataDirectory, durable, cancellation);
        var server = new EmbeddedPostgres(bin, dataDirectory, port, startedHere, deleteOnStop);
        await server.CreateDatabaseAsync(DatabaseName, cancellation);
        return server;
    }

    public async Task CreateDatabaseAsync(string name, CancellationToken cancellation = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(cancellation);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection)
        {
            Parameters = { new() { Value = name } },
        };
        if (await exists.ExecuteScalarAsync(cancellation) is null)
        {
            await using var create = new NpgsqlCommand($"create database \"{name.Replace("\"", "")}\"", connection);
            await create.ExecuteNonQueryAsync(cancellation);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Whoever started the cluster stops it: another process may still be using one we adopted.
        if (!StartedHere) return;
        await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", _dataDirectory, "-m", "fast", "-w", "stop"],
            asPostgres: IsRoot, CancellationToken.None, throwOnFailure: false);
        if (_deleteOnStop)
        {
            try { Directory.Delete(_dataDirectory, recursive: true); }
            catch (IOException) { /* a leftover temp folder is harmless */ }
        }
    }

    /// <summary>Stops a throwaway cluster whose owner is gone (a test run killed before its exit
    /// handler ran) and deletes its folder, so killed runs do not pile up servers.</summary>
    public static async Task RemoveAbandonedAsync(string dataDirectory)
    {
        if (File.Exists(Path.Combine(dataDirectory, "postmaster.pid")))
            await RunAsync(Path.Combine(FindBinaries(), "pg_ctl"), ["-D", dataDirectory, "-m", "immediate", "-w", "stop"],
                asPostgres: IsRoot, CancellationToken.None, throwOnFailure: false);
        try { Directory.Delete(dataDirectory, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }

    /// <summary>Starts the cluster and returns its port and true; or, when another process started it
    /// in the meantime, that cluster's port and false.</summary>
    private static async Task<(int Port, bool StartedHere)> StartClusterAsync(string bin, string dataDirectory, bool durable,
        CancellationToken cancellation)
    {
        var settings = $"-p {{0}} -k {dataDirectory} -c listen_addresses=127.0.0.1 -c max_connections=300";
        if (!durable) settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";

        // A port can be taken between probing and binding; try a few.
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            try
            {
                await RunAsync(Path.Combine(bin, "pg_ctl"),
                    ["-D", dataDirectory, "-o", string.Format(settings, port), "-l", Path.Combine(dataDirectory, "server.log"), "-w", "-t", "60", "start"],
                    asPostgres: IsRoot, cancellation);
                return (port, true);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                if (await RunningPortAsync(bin, dataDirectory, cancellation) is { } other) return (other, false);
            }
        }
    }

    /// <summary>The port of a cluster already running in this folder (left by a killed run).</summary>
    private static async Task<int?> RunningPortAsync(string bin, string dataDirectory, CancellationToken cancellation)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile)) return null;
        var exit = await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", dataDirectory, "status"], asPostgres: IsRoot,
            cancellation, throwOnFailure: false);
        if (exit != 0) return null;
        var lines = await File.ReadAllLinesAsync(pidFile, cancellation);
        return lines.Length > 3 && int.TryParse(lines[3], out var port) ? port : null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Finds initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, else pg_config's bindir.</summary>
    public static string FindBinaries()
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault();
            if (newest is not null) return newest;
        }

        try
        {
            var pgConfig = Process.Start(new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true })!;
            var dir = pgConfig.StandardOutput.ReadToEnd().Trim();
            pgConfig.WaitForExit();
            if (pgConfig.ExitCode == 0 && File.Exists(Path.Combine(dir, "initdb"))) return dir;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // pg_config is not on PATH either
        }

        throw new PostgresNotFoundException(
            "No PostgreSQL server binaries (initdb, pg_ctl) were found. Install them (Debian/Ubuntu: " +
            "`apt-get install postgresql`), set Postgres:BinDirectory to their folder, or point the platform " +
            "at a running server with ConnectionStrings:Marten.");
    }

    // Environment.UserName reads the effective user on Unix.
    private static bool IsRoot => !OperatingSystem.IsWindows() && Environment.UserName == "root";

    private static async Task<int> RunAsync(string file, string[] args, bool asPostgres, CancellationToken cancellation,
        bool throwOnFailure = true)
    {
        var start = asPostgres
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. args])
            : new ProcessStartInfo(file, args);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
        await process.WaitForExitAsync(cancellation);
        if (process.ExitCode != 0 && throwOnFailure)
            throw new InvalidOperationException(
                $"`{Path.GetFileName(file)} {string.Join(' ', args)}` failed ({process.ExitCode}): {await stderr}{await stdout}");
        return process.ExitCode;
    }
}

public sealed class PostgresNotFoundException(string message) : Exception(message);

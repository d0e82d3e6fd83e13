namespace MatOutcomes.Platform.Storage;

/// <summary>Where the platform's PostgreSQL is: <c>ConnectionStrings:Marten</c> when configured,
/// else a private embedded cluster started on first use and stopped with the host.</summary>
public sealed class PostgresServer(IConfiguration configuration, ILogger<PostgresServer> log) : IAsyncDisposable
{
    private readonly Lazy<(string ConnectionString, EmbeddedPostgres? Embedded)> _server = new(() =>
    {
        if (configuration.GetConnectionString("Marten") is { Length: > 0 } configured)
            return (configured, null);

        var dataDirectory = configuration["Postgres:DataDirectory"]
                            ?? Path.Combine(Path.GetTempPath(), "matoutcomes-pg", "platform");
        var embedded = EmbeddedPostgres.StartAsync(dataDirectory, durable: true, deleteOnStop: false,
            configuration["Postgres:BinDirectory"]).GetAwaiter().GetResult();
        log.LogInformation(
            "No ConnectionStrings:Marten configured: using an embedded PostgreSQL on 127.0.0.1:{Port}, data in {DataDirectory} ({Whose})",
            embedded.Port, embedded.DataDirectory,
            embedded.StartedHere ? "started by this process, stopped when it exits" : "already running, left running when this process exits");
        return (embedded.ConnectionString(), embedded);
    });

    public string ConnectionString => _server.Value.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        if (_server is { IsValueCreated: true, Value.Embedded: { } embedded }) await embedded.DisposeAsync();
    }
}

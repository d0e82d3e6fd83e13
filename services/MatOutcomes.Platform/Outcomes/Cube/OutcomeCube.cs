using System.Data;
using System.Diagnostics;
using System.Threading.Channels;
using Marten;
using Marten.Services;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.ServiceDefaults;

namespace MatOutcomes.Platform.Outcomes.Cube;

public sealed class CubeOptions
{
    /// <summary>How often a node that does not run the projection looks for new cells. The node
    /// that runs it is told after every commit and does not wait.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>What changed in one refresh: the new snapshot and the clinics (by index) whose cells
/// or activity moved.</summary>
public sealed record CubeChange(CubeSnapshot Snapshot, IReadOnlySet<string> Clinics, DateTimeOffset Read);

/// <summary>The outcome read models held in memory on every node. Loads every cell once at start,
/// then follows the projection: after each of its commits (or every <see cref="CubeOptions.PollInterval"/>
/// on other nodes) it reads only the cells and tallies stamped with a later sequence, in one snapshot
/// with the projection's progress, and publishes a new immutable <see cref="CubeSnapshot"/>. A read
/// costs what changed, never what the store holds.</summary>
public sealed class OutcomeCube(IDocumentStore store, ClinicDirectory clinics, PlatformTelemetry telemetry,
    Microsoft.Extensions.Options.IOptions<CubeOptions> options, StartupOrder startup, ILogger<OutcomeCube> log) : BackgroundService
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<bool> _nudges = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _waitersLock = new();
    private readonly List<(long Sequence, TaskCompletionSource Done)> _waiters = [];
    private volatile CubeSnapshot? _current;
    private CubeWriter _writer = new(clinics, rollUps: false);

    /// <summary>The latest snapshot (waits for the first load).</summary>
    public async Task<CubeSnapshot> CurrentAsync(CancellationToken cancellation)
    {
        if (_current is { } current) return current;
        await _ready.Task.WaitAsync(cancellation);
        return _current!;
    }

    public CubeSnapshot? Current => _current;

    /// <summary>Raised (on the follower's thread) after every refresh that changed anything.</summary>
    public event Action<CubeChange>? Changed;

    /// <summary>Look for new cells now (the projection just committed).</summary>
    public void Nudge() => _nudges.Writer.TryWrite(true);

    /// <summary>Completes once a snapshot includes <paramref name="sequence"/>.</summary>
    public Task WaitForAsync(long sequence, CancellationToken cancellation)
    {
        if (_current?.Sequence >= sequence) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitersLock) _waiters.Add((sequence, done));
        Nudge();
        return done.Task.WaitAsync(cancellation);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await startup.ReleaseFirstAsync(TimeSpan.FromSeconds(5), stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database may be restarting; the next round catches up from the same sequence.
                log.LogWarning(e, "Could not refresh the outcome cube; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
                continue;
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(options.Value.PollInterval);
            try
            {
                await _nudges.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    private async Task RefreshAsync(CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        await using var session = store.LightweightSession(IsolationLevel.RepeatableRead);
        await session.BeginTransactionAsync(cancellation);
        var sequence = await OutcomesProjection.SequenceAsync(session, cancellation);
        var known = _current?.Sequence ?? -1;
        if (sequence == known && _current is not null)
        {
            Release(_current);
            return;
        }

        // A rebuild starts the projection over: start the cube over too.
        var full = _current is null || sequence < known;
        if (full) _writer = new CubeWriter(clinics, rollUps: false);
        var after = full ? -1 : known;
        var cells = await ChangedAsync<OutcomeCell>(session, after, cancellation);
        var tallies = await ChangedAsync<ClinicTally>(session, after, cancellation);

        var changed = new HashSet<string>(StringComparer.Ordinal);
        if (full) _writer.Load(SharedWith(startup.TakeRelease(), cells));
        else
            foreach (var cell in cells)
                if (_writer.Set(cell.Key, cell.Stats) is not null) changed.Add(cell.Key.Clinic);
        foreach (var tally in tallies)
        {
            _writer.SetTally(tally);
            changed.Add(tally.Id);
        }
        _writer.Sequence = sequence;
        var snapshot = _writer.Publish(live: true);
        _current = snapshot;
        if (full)
        {
            _ready.TrySetResult();
            log.LogInformation("Outcome cube loaded: {Cells} cells, {Clinics} clinics, sequence {Sequence}, in {Ms:F0} ms",
                _writer.FineCells, snapshot.Clinics.Count, sequence, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        telemetry.CubeRefreshed(cells.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        Release(snapshot);
        if (changed.Count > 0) Changed?.Invoke(new CubeChange(snapshot, changed, DateTimeOffset.UtcNow));
    }

    /// <summary>The loaded cells, each replaced by the release's own statistics where the release holds
    /// that cell unchanged (cells are immutable, so both cubes may hold one object).</summary>
    private IEnumerable<(CellKey Key, CellStats Stats)> SharedWith(CubeSnapshot? release, List<OutcomeCell> cells)
    {
        if (release is null) return cells.Select(c => (c.Key, c.Stats));
        var released = new Dictionary<long, CellStats>(release.Fine.Count);
        foreach (var cell in release.Fine.Cells) released[cell.Key] = cell.Stats;
        return cells.Select(c =>
            released.TryGetValue(PackedKey.Pack(clinics.IndexOf(c.Key.Clinic), c.Key), out var same) && same.SameAs(c.Stats)
                ? (c.Key, same)
                : (c.Key, c.Stats));
    }

    /// <summary>Documents stamped after a sequence, read as raw JSON through the indexed column: no
    /// LINQ compilation or generated storage code stands between a cold start and the first answer.</summary>
    private async Task<List<T>> ChangedAsync<T>(IDocumentSession session, long after, CancellationToken cancellation)
    {
        var table = store.Options.FindOrResolveDocumentType(typeof(T)).TableName.QualifiedName;
        var serializer = store.Options.Serializer();
        await using var command = new Npgsql.NpgsqlCommand($"select data from {table} where sequence > $1", session.Connection)
        {
            Parameters = { new() { Value = after } },
        };
        var documents = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation)) documents.Add(serializer.FromJson<T>(reader, 0));
        return documents;
    }

    private void Release(CubeSnapshot snapshot)
    {
        lock (_waitersLock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Sequence > snapshot.Sequence) continue;
                _waiters[i].Done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }
}

/// <summary>Tells the cube after each commit of the async projections, so the node running them
/// refreshes at once instead of at its next poll.</summary>
public sealed class CubeNudge(Func<OutcomeCube> cube) : IChangeListener
{
    public Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        cube().Nudge();
        return Task.CompletedTask;
    }

    public Task BeforeCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token) => Task.CompletedTask;
}

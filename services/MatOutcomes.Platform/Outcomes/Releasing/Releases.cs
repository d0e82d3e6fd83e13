using Marten;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Platform.Storage;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Outcomes.Releasing;

public sealed class ReleaseOptions
{
    /// <summary>How often a release is cut (zero: only when an admin cuts one). Research figures are
    /// published, not live: a release a day keeps them fresh while every release moves its figures
    /// by whole groups of patients.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often a node looks for a release another node cut.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>A release as studies read it: its frozen cells and what it may publish.</summary>
public sealed record ReleaseSnapshot(int Number, long Sequence, DateTimeOffset CutAt, CubeSnapshot Cube, Disclosure Disclosure, NetworkFigures Network);

/// <summary>Cuts releases and keeps the latest one in memory on every node. A cut freezes the live
/// cube at its sequence, decides what each study may publish (<see cref="Disclosure"/>) and what
/// the dashboards compare with (<see cref="NetworkFigures"/>), and stores both with the cells in one
/// transaction; release numbers are unique, so two nodes cutting at once cannot both succeed.
/// Earlier releases are rebuilt on demand by replaying the log to their sequence.</summary>
public sealed class Releases(IDocumentStore store, OutcomeCube cube, CubeReplay replay, ClinicDirectory clinics,
    IOptions<PrivacyOptions> privacy, IOptions<ReleaseOptions> options, TimeProvider clock, StartupOrder startup, ILogger<Releases> log) : BackgroundService
{
    private readonly SemaphoreSlim _cutting = new(1, 1);
    private volatile ReleaseSnapshot? _latest;
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The latest release; before the first, release 0, which publishes nothing.</summary>
    public async Task<ReleaseSnapshot> LatestAsync(CancellationToken cancellation)
    {
        await _loaded.Task.WaitAsync(cancellation);
        return _latest ?? Nothing;
    }

    private ReleaseSnapshot Nothing { get; } = new(0, 0, DateTimeOffset.MinValue,
        new CubeWriter(clinics) { Sequence = 0 }.Publish(live: false), Disclosure.Unpublished, NetworkFigures.None);

    public ReleaseSnapshot? Latest => _latest;

    /// <summary>Raised on this node when it holds a new latest release.</summary>
    public event Action<ReleaseSnapshot>? Published;

    /// <summary>The release whose sequence is <paramref name="sequence"/>, replayed from the event log
    /// (a reproduction does not depend on the stored cells being intact), or null when none is.</summary>
    public async Task<ReleaseSnapshot?> AtSequenceAsync(long sequence, CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        var release = await session.Query<OutcomeRelease>().Where(r => r.Sequence == sequence).OrderBy(r => r.Id).FirstOrDefaultAsync(cancellation);
        return release is null ? null : new ReleaseSnapshot(release.Id, release.Sequence, release.CutAt,
            PublishedPart(await replay.AsOfAsync(release.Sequence, cancellation), release.OpenQuarter), release.Disclosure, release.Network);
    }

    /// <summary>Whether a release was cut at <paramref name="sequence"/> (a lookup, no replay).</summary>
    public async Task<bool> IsReleaseAsync(long sequence, CancellationToken cancellation) =>
        _latest?.Sequence == sequence || (await RawAsync<OutcomeRelease>("where sequence = $1 limit 1", sequence, cancellation)).Count > 0;

    public async Task<IReadOnlyList<OutcomeRelease>> ListAsync(CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        return [.. await session.Query<OutcomeRelease>().OrderByDescending(r => r.Id).Take(500).ToListAsync(cancellation)];
    }

    /// <summary>Cuts a release now from the live read models (waiting until they include every
    /// stored event, so a release is a whole sequence).</summary>
    public async Task<ReleaseSnapshot> CutAsync(CancellationToken cancellation)
    {
        await _cutting.WaitAsync(cancellation);
        try
        {
            await _loaded.Task.WaitAsync(cancellation);
            await RefreshAsync(cancellation);
            long highest;
            await using (var query = store.QuerySession())
                highest = (await query.QueryAsync<long>($"select coalesce(max(seq_id), 0) from {EventStoreExtensions.Schema}.mt_events", cancellation)).Single();
            await cube.WaitForAsync(highest, cancellation);
            var live = await cube.CurrentAsync(cancellation);
            var previous = _latest;
            if (previous is not null && previous.Sequence == live.Sequence) return previous;
            var cutAt = clock.GetUtcNow();
            var openQuarter = Quarters.Index(Quarters.Of(DateOnly.FromDateTime(cutAt.UtcDateTime)));
            var snapshot = PublishedPart(live, openQuarter);

            var number = (previous?.Number ?? 0) + 1;
            var k = privacy.Value.K;
            var disclosure = await Disclosure.DecideAsync(number, snapshot, previous?.Disclosure, AtNumberAsync, k);
            var network = NetworkFigures.Decide(number, snapshot, previous?.Network, k);
            var release = new OutcomeRelease
            {
                Id = number, Sequence = snapshot.Sequence, CutAt = cutAt, OpenQuarter = openQuarter, Disclosure = disclosure, Network = network,
            };

            await using (var session = store.LightweightSession())
            {
                session.Insert(release);
                session.DeleteWhere<ReleasedCells>(_ => true);
                var stored = new List<(long, CellStats)>(snapshot.Fine.Count);
                foreach (var cell in snapshot.Fine.Cells)
                    if (cell.Stats.Episodes != 0 || cell.Stats.Slots.Length != 0) stored.Add((cell.Key, cell.Stats));
                foreach (var chunk in ReleasedCells.Of(number, stored, snapshot.Clinics)) session.Insert(chunk);
                await session.SaveChangesAsync(cancellation);
            }
            log.LogInformation("Cut release {Number} at sequence {Sequence}", number, snapshot.Sequence);
            var published = new ReleaseSnapshot(number, snapshot.Sequence, release.CutAt, snapshot, disclosure, network);
            Publish(published);
            return published;

            async Task<CubeSnapshot> AtNumberAsync(int at)
            {
                if (previous?.Number == at) return previous.Cube;
                await using var session = store.QuerySession();
                var earlier = await session.LoadAsync<OutcomeRelease>(at, cancellation) ?? throw new InvalidOperationException($"release {at} is missing");
                return PublishedPart(await replay.AsOfAsync(earlier.Sequence, cancellation), earlier.OpenQuarter);
            }
        }
        finally
        {
            _cutting.Release();
        }
    }

    private async Task<List<T>> RawAsync<T>(string clause, object? parameter, CancellationToken cancellation)
    {
        var table = store.Options.FindOrResolveDocumentType(typeof(T)).TableName.QualifiedName;
        var serializer = store.Options.Serializer();
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new Npgsql.NpgsqlCommand($"select data from {table} {clause}", connection);
        if (parameter is not null) command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = parameter });
        var documents = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation)) documents.Add(serializer.FromJson<T>(reader, 0));
        return documents;
    }

    /// <summary>What a release publishes of a snapshot: its discharged episodes of closed quarters
    /// (see <see cref="Pooling.Published"/>), rebuilt as a cube of their own so every table, total
    /// and per-clinic sum covers exactly them. O(cells), once per release.</summary>
    private CubeSnapshot PublishedPart(CubeSnapshot snapshot, int openQuarter)
    {
        var writer = new CubeWriter(clinics);
        var published = new List<(CellKey, CellStats)>();
        foreach (var cell in snapshot.Fine.Cells)
            if (!cell.Stats.IsEmpty && Pooling.Published(cell.Key, openQuarter))
                published.Add((CubeKeys.Unpack(cell.Key, snapshot.Clinics), cell.Stats));
        writer.Load(published);
        foreach (var tally in snapshot.Tallies.Values) writer.SetTally(tally);
        writer.Sequence = snapshot.Sequence;
        return writer.Publish(live: false);
    }

    private void Publish(ReleaseSnapshot release)
    {
        var replaced = _latest is not null;
        _latest = release;
        Published?.Invoke(release);
        // The roll-ups' scanning form, laid out now on both cores rather than by the first studies
        // that need them (a study arriving meanwhile waits for the one it needs, not for all). The
        // fine table's is left to a study that needs it: most are answered from roll-ups.
        _ = Task.Run(() =>
        {
            Parallel.ForEach(release.Cube.Tables.Skip(1), table => release.Cube.Flat(table));
            // The release replaced is garbage now, all at once and all in the oldest generation, with
            // what the cut worked through. The background collector would sweep it into free space
            // the node keeps committed for good; one compacting collection per release (a day, by
            // default) gives it back, for one pause.
            if (!replaced) return;
            var (heap, paused) = (GC.GetTotalMemory(false), GC.GetTotalPauseDuration());
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            log.LogInformation("Release {Number} replaced the previous one: heap {Before:F0} -> {After:F0} MB, compacted in a {Pause:F0} ms pause",
                release.Number, heap / 1e6, GC.GetTotalMemory(false) / 1e6, (GC.GetTotalPauseDuration() - paused).TotalMilliseconds);
        }, CancellationToken.None);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = Task.Run(() =>
        {
            try
            {
                StudyWarmUp.Run();
            }
            catch (Exception e)
            {
                log.LogWarning(e, "The study warm-up failed; the first study compiles its code instead");
            }
        }, CancellationToken.None);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
                _loaded.TrySetResult();
                startup.ReleaseSettled(_latest?.Cube);
                if (Due()) await CutAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A unique release number lost to another node, or the database restarting: look again later.
                log.LogWarning(e, "Could not load or cut a release; retrying");
                startup.ReleaseSettled();
            }
            await Task.Delay(options.Value.PollInterval, clock, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    private bool Due()
    {
        if (options.Value.Interval <= TimeSpan.Zero || cube.Current is not { Sequence: > 0 } live) return false;
        return _latest is not { } latest || (latest.Sequence != live.Sequence && clock.GetUtcNow() - latest.CutAt >= options.Value.Interval);
    }

    /// <summary>Loads the latest stored release when another node cut a newer one (at start, too: read
    /// as raw JSON, so the first answer after a restart waits for no generated code).</summary>
    private async Task RefreshAsync(CancellationToken cancellation)
    {
        var newest = (await RawAsync<OutcomeRelease>("order by id desc limit 1", null, cancellation)).FirstOrDefault();
        if (newest is null || newest.Id == _latest?.Number) return;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The stored cells are the release's already (published episodes only).
        var chunks = await RawAsync<ReleasedCells>("where release = $1", newest.Id, cancellation);
        var read = clock.Elapsed;
        CubeSnapshot cells;
        if (chunks.Count == 0)
        {
            // Cut by a build that stored one document per cell (or its cells lost): the log has them.
            log.LogWarning("Release {Number} has no stored cells in this build's form; replaying the log to its sequence", newest.Id);
            cells = PublishedPart(await replay.AsOfAsync(newest.Sequence, cancellation), newest.OpenQuarter);
        }
        else
        {
            var writer = new CubeWriter(clinics);
            writer.Load(chunks.OrderBy(c => c.Chunk).SelectMany(c => c.Cells()));
            writer.Sequence = newest.Sequence;
            cells = writer.Publish(live: false);
        }
        Publish(new ReleaseSnapshot(newest.Id, newest.Sequence, newest.CutAt, cells, newest.Disclosure, newest.Network));
        log.LogInformation("Release {Number} loaded: {Cells} cells in {Ms:F0} ms (reading {Read:F0} ms)",
            newest.Id, cells.Fine.Count, clock.Elapsed.TotalMilliseconds, read.TotalMilliseconds);
    }
}

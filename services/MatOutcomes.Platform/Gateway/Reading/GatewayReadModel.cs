using System.Collections.Concurrent;
using System.Data;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Marten;
using MatOutcomes.Platform.Gateway.BrowsingEpisodes;
using MatOutcomes.Platform.Gateway.Limits;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Gateway.Reading;

/// <summary>The outcome cells at one event sequence, with what is derived from them alone.
/// Immutable, so one instance may serve many requests.</summary>
public sealed class NetworkSnapshot
{
    private readonly Lazy<EpisodeRelease> _release;

    public NetworkSnapshot(long sequence, IEnumerable<OutcomeCell> cells, bool live, int k)
    {
        // One canonical order: floating-point sums (the adjusted model, benchmarks) then come out
        // bit-identical for identical cells, whether read live or replayed.
        Cells = cells.OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
        (Sequence, Live, K) = (sequence, live, k);
        _release = new(() => EpisodeRelease.Of(Cells, K));
    }

    public long Sequence { get; }
    public IReadOnlyList<OutcomeCell> Cells { get; }
    /// <summary>Read from the live read models (rather than replayed as of an earlier sequence).</summary>
    public bool Live { get; }
    public int K { get; }

    /// <summary>How every cell's episodes may be shown row by row (k-anonymous).</summary>
    public EpisodeRelease Release => _release.Value;

    private const int ComparisonsKept = 256;
    private readonly ConcurrentDictionary<string, CohortComparison> _comparisons = new();

    /// <summary>A comparison is a pure function of the cells, the filter and k: remembered for as
    /// long as this snapshot is current (a bounded number), so a study many researchers run, or an
    /// IDE re-running a query, is computed once per sequence.</summary>
    public CohortComparison Compare(StudyQuery query)
    {
        var key = JsonSerializer.Serialize(query);
        if (_comparisons.TryGetValue(key, out var known)) return known;
        var comparison = StudyCalculator.Compare(Cells, query, Sequence, K);
        if (_comparisons.Count < ComparisonsKept) _comparisons.TryAdd(key, comparison);
        return comparison;
    }
}

/// <summary>Cells are the same for as long as the projection's sequence is: keep the last live
/// snapshot and a few replayed ones, so a steady read load does not reload or replay them.</summary>
public sealed class CellCache
{
    private const int AsOfKept = 8;
    private readonly Lock _lock = new();
    private NetworkSnapshot? _live;
    private readonly LinkedList<NetworkSnapshot> _asOf = [];

    public NetworkSnapshot? Live(long sequence)
    {
        lock (_lock) return _live?.Sequence == sequence ? _live : null;
    }

    public NetworkSnapshot KeepLive(NetworkSnapshot snapshot)
    {
        lock (_lock) return _live = snapshot;
    }

    public NetworkSnapshot? AsOf(long sequence)
    {
        lock (_lock) return _asOf.FirstOrDefault(s => s.Sequence == sequence);
    }

    public NetworkSnapshot KeepAsOf(NetworkSnapshot snapshot)
    {
        lock (_lock)
        {
            _asOf.AddFirst(snapshot);
            while (_asOf.Count > AsOfKept) _asOf.RemoveLast();
            return snapshot;
        }
    }
}

/// <summary>One request's view of the outcome read models. The live cells, the projection's
/// sequence and any episode rows are read in one repeatable-read transaction, so every figure of
/// a response reflects the same sequence; cells are loaded at most once per request (usually not
/// at all: <see cref="CellCache"/>), and comparisons are computed once per distinct filter and sequence.</summary>
public sealed class GatewayReadModel(IDocumentStore store, StudyReader reader, CellCache cache, IOptions<PrivacyOptions> privacy,
    ReplayBudget replays)
    : IAsyncDisposable
{
    // GraphQL resolves sibling root fields in parallel; one connection takes one command at a time.
    private readonly SemaphoreSlim _connection = new(1, 1);
    private readonly Lock _lock = new();
    private IDocumentSession? _session;
    private Task<NetworkSnapshot>? _live;
    private readonly ConcurrentDictionary<long, Task<NetworkSnapshot>> _asOf = new();

    public int K => privacy.Value.K;

    public Task<NetworkSnapshot> LiveAsync(CancellationToken cancellation)
    {
        lock (_lock) return _live ??= LoadLiveAsync(cancellation);
    }

    /// <summary>The live snapshot, or the cells replayed from the event log as of a sequence the
    /// live read models have reached. An explicit asOf always replays, even at the live sequence:
    /// a reproduction should not depend on the read models being intact.</summary>
    public async Task<NetworkSnapshot> SnapshotAsync(long? asOf, CancellationToken cancellation)
    {
        var live = await LiveAsync(cancellation);
        if (asOf is not { } sequence) return live;
        // Beyond what the projection has processed, earlier sequences may still be committing.
        if (sequence < 0 || sequence > live.Sequence)
            throw new GatewayError("INVALID_AS_OF", $"asOf must be an event sequence from 0 to {live.Sequence} (the read models' current sequence).",
                "asOf", "range");
        return await _asOf.GetOrAdd(sequence, s => ReplayAsync(s, cancellation));
    }

    private async Task<NetworkSnapshot> ReplayAsync(long sequence, CancellationToken cancellation)
    {
        if (cache.AsOf(sequence) is { } kept) return kept;
        var (cells, _) = await replays.RunAsync(sequence, ct => reader.AsOfAsync(sequence, ct), cancellation);
        return cache.KeepAsOf(new NetworkSnapshot(sequence, cells, live: false, K));
    }

    private async Task<NetworkSnapshot> LoadLiveAsync(CancellationToken cancellation)
    {
        await _connection.WaitAsync(cancellation);
        try
        {
            _session = store.LightweightSession(IsolationLevel.RepeatableRead);
            await _session.BeginTransactionAsync(cancellation);
            var sequence = await OutcomesProjection.SequenceAsync(_session, cancellation);
            if (cache.Live(sequence) is { } kept) return kept;
            var cells = await _session.Query<OutcomeCell>().ToListAsync(cancellation);
            return cache.KeepLive(new NetworkSnapshot(sequence, cells, live: true, K));
        }
        finally
        {
            _connection.Release();
        }
    }

    public CohortComparison Compare(NetworkSnapshot snapshot, StudyQuery query) => snapshot.Compare(query);

    /// <summary>A page of released episode rows, read in the live snapshot's transaction: at most
    /// <paramref name="take"/> contributions of the given cells whose order key follows <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<OrderedContribution>> RowsAsync(IReadOnlyCollection<string> cellIds, string? after, int take,
        RowOrder order, CancellationToken cancellation)
    {
        await LiveAsync(cancellation);
        if (cellIds.Count == 0 || take <= 0) return [];
        await _connection.WaitAsync(cancellation);
        try
        {
            var rows = await _session!.QueryAsync<OrderedContribution>(
                $"""
                 select jsonb_build_object('orderKey', md5(? || id), 'contribution', data -> 'contribution')
                 from {store.Options.FindOrResolveDocumentType(typeof(EpisodeSummary)).TableName.QualifiedName}
                 where data -> 'contribution' -> 'key' ->> 'id' = any(?) and md5(? || id) > ?
                 order by md5(? || id)
                 limit ?
                 """,
                cancellation, order.Salt, cellIds.ToArray(), order.Salt, after ?? "", order.Salt, take);
            return rows.ToList();
        }
        finally
        {
            _connection.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_session is not null) await _session.DisposeAsync();
        _connection.Dispose();
    }
}

/// <summary>An episode's contribution with its position in the release order.</summary>
public sealed record OrderedContribution(string OrderKey, Contribution Contribution);

/// <summary>Episode rows are paged in the order of a keyed hash of their id: stable, yet it says
/// nothing of clinic, time or identity (ordering by id would group rows by clinic, and a plain hash
/// could be recomputed by anyone who knows an episode's id).</summary>
public sealed class RowOrder(IConfiguration configuration)
{
    public string Salt { get; } = Convert.ToHexStringLower(
        SHA256.HashData(Encoding.UTF8.GetBytes("matoutcomes-row-order:" + configuration["Auth:SigningKey"])));
}

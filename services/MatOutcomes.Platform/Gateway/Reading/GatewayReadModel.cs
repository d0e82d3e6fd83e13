using System.Security.Cryptography;
using System.Text;
using Marten;
using MatOutcomes.Platform.Gateway.BrowsingEpisodes;
using MatOutcomes.Platform.Gateway.Limits;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Gateway.Reading;

/// <summary>The outcome read models at one event sequence (an immutable cube snapshot), with k and
/// what is derived from them alone.</summary>
public sealed class NetworkSnapshot(CubeSnapshot cube, int k)
{
    public CubeSnapshot Cube { get; } = cube;
    public long Sequence => Cube.Sequence;

    /// <summary>Read from the live read models (rather than replayed as of an earlier sequence).</summary>
    public bool Live => Cube.Live;
    public int K { get; } = k;

    /// <summary>How every cell's episodes may be shown row by row (k-anonymous), once per snapshot.</summary>
    public EpisodeRelease Release => Cube.Memo($"release:{K}", c => EpisodeRelease.Of(c, K));

    public CohortComparison Compare(StudyQuery query) => StudyCalculator.Remembered(Cube, query, K);
}

/// <summary>One request's view of the outcome read models: the live cube snapshot it first read
/// (so every field of a response reflects the same sequence) and any replays it asked for.</summary>
public sealed class GatewayReadModel(IDocumentStore store, StudyReader reader, IOptions<PrivacyOptions> privacy, ReplayBudget replays)
{
    private readonly Lock _lock = new();
    private Task<NetworkSnapshot>? _live;

    public int K => privacy.Value.K;

    public Task<NetworkSnapshot> LiveAsync(CancellationToken cancellation)
    {
        lock (_lock) return _live ??= LoadLiveAsync(cancellation);
    }

    private async Task<NetworkSnapshot> LoadLiveAsync(CancellationToken cancellation) =>
        new(await reader.CurrentAsync(cancellation), K);

    /// <summary>The live snapshot, or the read models replayed from the event log as of a sequence the
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
        return new NetworkSnapshot(await replays.RunAsync(sequence, ct => reader.AsOfAsync(sequence, ct), cancellation), K);
    }

    public CohortComparison Compare(NetworkSnapshot snapshot, StudyQuery query) => snapshot.Compare(query);

    /// <summary>A page of released episode rows: at most <paramref name="take"/> contributions in the
    /// given cells whose order key follows <paramref name="after"/>, read through the cell index.</summary>
    public async Task<IReadOnlyList<OrderedContribution>> RowsAsync(IReadOnlyCollection<string> cellIds, string? after, int take,
        RowOrder order, CancellationToken cancellation)
    {
        if (cellIds.Count == 0 || take <= 0) return [];
        await using var session = store.QuerySession();
        var rows = await session.QueryAsync<OrderedContribution>(
            $"""
             select jsonb_build_object('orderKey', md5(? || id), 'contribution', data -> 'contribution')
             from {store.Options.FindOrResolveDocumentType(typeof(EpisodeSummary)).TableName.QualifiedName}
             where cell_id = any(?) and md5(? || id) > ?
             order by md5(? || id)
             limit ?
             """,
            cancellation, order.Salt, cellIds.ToArray(), order.Salt, after ?? "", order.Salt, take);
        return rows.ToList();
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

using System.Security.Cryptography;
using System.Text;
using Marten;
using MatOutcomes.Platform.Gateway.BrowsingEpisodes;
using MatOutcomes.Platform.Gateway.Limits;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;
using MatOutcomes.Platform.Outcomes.Studying;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Gateway.Reading;

/// <summary>One release of the outcome read models (immutable), with k and what is derived from
/// it alone.</summary>
public sealed class NetworkSnapshot(ReleaseSnapshot release, bool latest, int k)
{
    public ReleaseSnapshot Release => release;
    public CubeSnapshot Cube => release.Cube;
    public Disclosure Disclosure => release.Disclosure;
    public long Sequence => release.Sequence;
    public int Number => release.Number;

    /// <summary>The latest release (rather than an earlier one named by asOf).</summary>
    public bool Live { get; } = latest;
    public int K { get; } = k;

    /// <summary>How every cell's episodes may be shown row by row (k-anonymous), once per release.</summary>
    public EpisodeRelease Rows => Cube.Memo($"rows:{K}", c => EpisodeRelease.Of(c, K));

    public CohortComparison Compare(StudyQuery query) => StudyCalculator.Remembered(Cube, Disclosure, query, K);
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
        new(await reader.CurrentAsync(cancellation), latest: true, K);

    /// <summary>The latest release, or the earlier release whose sequence is <paramref name="asOf"/>
    /// (replayed from the event log: a reproduction does not depend on the read models being intact).</summary>
    public async Task<NetworkSnapshot> SnapshotAsync(long? asOf, CancellationToken cancellation)
    {
        var latest = await LiveAsync(cancellation);
        if (asOf is not { } sequence) return latest;
        var release = await replays.RunAsync(sequence, ct => reader.AsOfAsync(sequence, ct), cancellation)
                      ?? throw new GatewayError("INVALID_AS_OF", $"asOf {StudyReader.NotARelease}.", "asOf", "release");
        return new NetworkSnapshot(release, latest: false, K);
    }

    public CohortComparison Compare(NetworkSnapshot snapshot, StudyQuery query) => snapshot.Compare(query);

    /// <summary>A page of released episode rows: at most <paramref name="take"/> contributions in the
    /// given cells whose order key follows <paramref name="after"/>, read through the cell index. Only
    /// episodes unchanged since the release are served, so a row is exactly what the release held.</summary>
    public async Task<IReadOnlyList<OrderedContribution>> RowsAsync(IReadOnlyCollection<string> cellIds, string? after, int take,
        RowOrder order, long release, CancellationToken cancellation)
    {
        if (cellIds.Count == 0 || take <= 0) return [];
        await using var session = store.QuerySession();
        var rows = await session.QueryAsync<OrderedContribution>(
            $"""
             select jsonb_build_object('orderKey', md5(? || id), 'contribution', data -> 'contribution')
             from {store.Options.FindOrResolveDocumentType(typeof(EpisodeSummary)).TableName.QualifiedName}
             where cell_id = any(?) and (data ->> 'lastSequence')::bigint <= ? and md5(? || id) > ?
             order by md5(? || id)
             limit ?
             """,
            cancellation, order.Salt, cellIds.ToArray(), release, order.Salt, after ?? "", order.Salt, take);
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

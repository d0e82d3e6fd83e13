using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Wolverine.Runtime;

namespace MatOutcomes.Platform.Storage;

/// <summary>One async projection or subscription as readiness reports it: how far it has read,
/// how many stored events it trails by, and which Wolverine node runs it (null: none does).</summary>
public sealed record ShardHealth(string Name, long Sequence, long Lag, int? Node);

/// <summary>Readiness of the read side: every async projection and subscription is running on
/// some node (Wolverine's assignments, whichever process holds them) with its lag. A shard no
/// node runs is Degraded, not Unhealthy: this node still serves, and taking nodes out of a load
/// balancer would not start it.</summary>
public sealed class ProjectionHealth(IDocumentStore store, IWolverineRuntime wolverine) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellation = default)
    {
        try
        {
            return await CheckAsync(cancellation);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The cause only: Marten's own message carries the SQL it ran.
            return HealthCheckResult.Unhealthy($"Could not read projection progress: {e.GetBaseException().Message}");
        }
    }

    private async Task<HealthCheckResult> CheckAsync(CancellationToken cancellation)
    {
        var shards = ((DocumentStore)store).Options.Projections.AllShards().Select(s => s.Name).ToList();
        await using var session = store.QuerySession();
        // The highest stored event, not the sequence's last value: rolled-back appends burn numbers.
        var highest = (await session.QueryAsync<long>(
            $"select coalesce(max(seq_id), 0) from {EventStoreExtensions.Schema}.mt_events", cancellation)).Single();
        var progress = (await store.Advanced.AllProjectionProgress(token: cancellation))
            .ToDictionary(p => p.ShardName, p => p.Sequence);
        var nodes = await wolverine.Storage.Nodes.LoadAllNodesAsync(cancellation);

        var report = shards.Select(shard =>
        {
            var sequence = progress.GetValueOrDefault(shard.Identity);
            var node = nodes.FirstOrDefault(n => n.ActiveAgents.Any(a => a.ToString().Contains($"/{shard.Name}/", StringComparison.Ordinal)));
            return new ShardHealth(shard.Name, sequence, Math.Max(0, highest - sequence), node?.AssignedNodeNumber);
        }).ToList();

        var data = report.ToDictionary(s => s.Name, object (s) => s);
        var idle = report.Where(s => s.Node is null).Select(s => s.Name).ToList();
        return idle.Count == 0
            ? HealthCheckResult.Healthy($"{report.Count} projections running; highest event {highest}", data)
            : HealthCheckResult.Degraded($"Not running on any node yet: {string.Join(", ", idle)}", data: data);
    }
}

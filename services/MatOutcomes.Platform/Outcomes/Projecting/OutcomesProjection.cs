using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>The cross-clinic outcome read models: one summary per episode and additive cells of
/// sufficient statistics. Runs asynchronously; Wolverine decides which process runs it.</summary>
public sealed class OutcomesProjection : IProjection
{
    public const string Name = "outcomes";

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        if (events.Count == 0) return;

        var ids = events.Select(e => EpisodeSummary.IdFor(e.TenantId, e.StreamId)).Distinct().ToArray();
        var known = await operations.LoadManyAsync<EpisodeSummary>(cancellation, ids);
        var ledger = new OutcomeLedger(known);
        foreach (var e in events) ledger.Apply(e);

        var cells = (await operations.LoadManyAsync<OutcomeCell>(cancellation, ledger.TouchedCellIds.ToArray()))
            .ToDictionary(c => c.Id);
        foreach (var cell in ledger.ApplyTo(cells))
        {
            if (cell.IsEmpty) operations.Delete<OutcomeCell>(cell.Id);
            else operations.Store(cell);
        }
        foreach (var summary in ledger.Changed) operations.Store(summary);
    }

    /// <summary>The last event sequence the outcome read models include: Marten's own progress
    /// row, committed in the same transaction as the cells.</summary>
    public static async Task<long> SequenceAsync(IQuerySession session, CancellationToken cancellation)
    {
        var rows = await session.QueryAsync<long>(
            $"select last_seq_id from {Storage.EventStoreExtensions.Schema}.mt_event_progression where name = ?",
            cancellation, $"{Name}:All");
        return rows.SingleOrDefault();
    }
}

using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>The cross-clinic read models: one summary per episode (its one fold), additive outcome
/// cells, and per-clinic activity tallies. Runs asynchronously; Wolverine decides which process
/// runs it. Every cell and tally it writes carries the batch's last sequence, so other processes
/// follow the read models by asking only for what changed.</summary>
public sealed class OutcomesProjection : IProjection
{
    public const string Name = "outcomes";

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        if (events.Count == 0) return;

        var ids = events.Select(e => EpisodeSummary.IdFor(e.TenantId, e.StreamId)).Distinct().ToArray();
        var ledger = new OutcomeLedger(await operations.LoadManyAsync<EpisodeSummary>(cancellation, ids));
        foreach (var e in events) ledger.Apply(e);
        var sequence = events.Max(e => e.Sequence);

        var cells = (await operations.LoadManyAsync<OutcomeCell>(cancellation, ledger.TouchedCellIds.ToArray())).ToDictionary(c => c.Id);
        foreach (var cell in ledger.ApplyTo(cells, sequence)) operations.Store(cell);

        var tallies = (await operations.LoadManyAsync<ClinicTally>(cancellation, ledger.TouchedClinics.ToArray())).ToDictionary(t => t.Id);
        foreach (var tally in ledger.ApplyTo(tallies, sequence)) operations.Store(tally);

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

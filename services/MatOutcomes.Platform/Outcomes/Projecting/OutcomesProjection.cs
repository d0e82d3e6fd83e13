using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using MatOutcomes.Platform.Outcomes.Rebuilding;

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

        var episodes = events.Select(e => (Clinic: e.TenantId, EpisodeId: e.StreamId)).Distinct().ToArray();
        var sequence = events.Max(e => e.Sequence);
        var ledger = new OutcomeLedger(await operations.LoadManyAsync<EpisodeSummary>(cancellation,
            episodes.Select(e => EpisodeSummary.IdFor(e.Clinic, e.EpisodeId)).ToArray()));
        // Each changed episode is folded again from its own events up to this batch, read from the
        // log: the summaries keep what an episode contributed, not the episode (see EpisodeSummary).
        await foreach (var replayed in EpisodeReplay.ReadAsync(operations.Database, operations.DocumentStore.Options.Serializer(), episodes, sequence, cancellation))
            ledger.Apply(replayed);

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

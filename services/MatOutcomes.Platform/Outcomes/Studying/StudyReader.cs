using System.Data;
using JasperFx.Events;
using Marten;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

public sealed class PrivacyOptions
{
    /// <summary>Smallest number of patients any published figure may stand on (CMS uses 11).</summary>
    public int K { get; set; } = 11;
}

/// <summary>Reads the outcome cells a study is computed from, with the event sequence they
/// include.</summary>
public sealed class StudyReader(IDocumentStore store)
{
    /// <summary>The live cells and the projection's progress, read in one snapshot so the sequence stated
    /// is exactly the one the cells include.</summary>
    public async Task<(IReadOnlyList<OutcomeCell> Cells, long Sequence)> CurrentAsync(CancellationToken cancellation)
    {
        await using var session = store.LightweightSession(IsolationLevel.RepeatableRead);
        await session.BeginTransactionAsync(cancellation);
        var cells = await session.Query<OutcomeCell>().ToListAsync(cancellation);
        return (cells, await OutcomesProjection.SequenceAsync(session, cancellation));
    }

    /// <summary>The cells as they were when event <paramref name="sequence"/> was the last one in:
    /// replays the event log up to it through the projection's own ledger. Exact at any sequence
    /// and unchanged by later events or rebuilds; costs O(events), unlike live queries.</summary>
    public async Task<(IReadOnlyCollection<OutcomeCell> Cells, long Sequence)> AsOfAsync(long sequence, CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.AnyTenant() && e.Sequence <= sequence)
            .OrderBy(e => e.Sequence)
            .ToListAsync(cancellation);
        var (cells, _) = OutcomeLedger.Replay(events);
        return (cells, sequence);
    }
}

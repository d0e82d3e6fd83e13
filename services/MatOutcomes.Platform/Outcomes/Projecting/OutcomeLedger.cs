using JasperFx.Events;
using MatOutcomes.Platform.Episodes;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>Folds events into episode summaries and records how each changed episode's
/// contribution moves between cells: the old one leaves, the new one enters. Pure and in memory;
/// the projection, the as-of replay and the tests all use it.</summary>
public sealed class OutcomeLedger(IEnumerable<EpisodeSummary> known)
{
    private readonly Dictionary<string, EpisodeSummary> _summaries = known.ToDictionary(s => s.Id);
    private readonly List<(Contribution Contribution, int Sign)> _deltas = [];

    public IReadOnlyCollection<EpisodeSummary> Summaries => _summaries.Values;
    public HashSet<EpisodeSummary> Changed { get; } = [];
    public long LastSequence { get; private set; }

    public void Apply(IEvent e) => Apply(e.TenantId, e.StreamId, e.Id, (int)e.Version, e.Sequence, e.Data);

    public void Apply(string clinic, Guid episodeId, Guid eventId, int position, long sequence, object data)
    {
        var id = EpisodeSummary.IdFor(clinic, episodeId);
        if (!_summaries.TryGetValue(id, out var summary))
            _summaries[id] = summary = new EpisodeSummary { Id = id, Clinic = clinic, EpisodeId = episodeId };

        summary.Episode = Episode.Fold(summary.Episode, episodeId, eventId, position, data);
        summary.LastSequence = sequence;
        LastSequence = Math.Max(LastSequence, sequence);
        Changed.Add(summary);

        var next = summary.Episode is null ? null : Contribution.Of(clinic, summary.Episode);
        if (Equals(next, summary.Contribution)) return;
        if (summary.Contribution is { } old) _deltas.Add((old, -1));
        if (next is not null) _deltas.Add((next, +1));
        summary.Contribution = next;
    }

    /// <summary>The ids of the cells the recorded changes touch.</summary>
    public IEnumerable<string> TouchedCellIds => _deltas.Select(d => d.Contribution.Key.Id).Distinct();

    /// <summary>Moves the recorded contributions into <paramref name="cells"/> (creating cells
    /// as needed) and returns the cells touched.</summary>
    public IReadOnlyCollection<OutcomeCell> ApplyTo(IDictionary<string, OutcomeCell> cells)
    {
        var touched = new HashSet<OutcomeCell>();
        foreach (var (contribution, sign) in _deltas)
        {
            var key = contribution.Key;
            if (!cells.TryGetValue(key.Id, out var cell))
                cells[key.Id] = cell = new OutcomeCell { Id = key.Id, Key = key };
            cell.Apply(contribution, sign);
            touched.Add(cell);
        }
        _deltas.Clear();
        return touched;
    }

    /// <summary>Every cell, computed from scratch from a stream of events.</summary>
    public static (IReadOnlyCollection<OutcomeCell> Cells, long Sequence) Replay(IEnumerable<IEvent> events)
    {
        var ledger = new OutcomeLedger([]);
        foreach (var e in events) ledger.Apply(e);
        var cells = new Dictionary<string, OutcomeCell>();
        ledger.ApplyTo(cells);
        return (cells.Values.Where(c => !c.IsEmpty).ToList(), ledger.LastSequence);
    }
}

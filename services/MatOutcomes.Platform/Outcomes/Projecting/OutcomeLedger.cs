using JasperFx.Events;
using MatOutcomes.Platform.Episodes;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>Folds events into episode summaries and records how each changed episode's
/// contributions move: the old ones leave their outcome cell and their clinic's activity, the new
/// ones enter. Pure and in memory; the projection, the as-of replay and the tests all use it.</summary>
public sealed class OutcomeLedger(IEnumerable<EpisodeSummary> known)
{
    private readonly Dictionary<string, EpisodeSummary> _summaries = known.ToDictionary(s => s.Id);
    private readonly Dictionary<string, (CellKey Key, CellStats Delta)> _cells = [];
    private readonly List<(string Clinic, ActivityContribution Activity, int Sign)> _activity = [];

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
        _unsettled.Add(summary);
    }

    // Cells only ever see an episode as it stands at the end of a batch, so its contributions are
    // worked out once per batch, not once per event (a bulk push brings whole episodes at a time).
    private readonly HashSet<EpisodeSummary> _unsettled = [];

    private void Settle()
    {
        foreach (var summary in _unsettled)
        {
            var next = summary.Episode is null ? null : Contribution.Of(summary.Clinic, summary.Episode);
            if (!Equals(next, summary.Contribution))
            {
                if (summary.Contribution is { } old) Move(old, -1);
                if (next is not null) Move(next, +1);
                summary.Contribution = next;
                summary.CellId = next?.Key.Id;
            }

            var activity = ActivityContribution.Of(summary.Episode);
            if (!Equals(activity, summary.Activity))
            {
                if (summary.Activity is { } old) _activity.Add((summary.Clinic, old, -1));
                if (activity is not null) _activity.Add((summary.Clinic, activity, +1));
                summary.Activity = activity;
            }
        }
        _unsettled.Clear();
    }

    private void Move(Contribution contribution, int sign)
    {
        var id = contribution.Key.Id;
        var delta = _cells.TryGetValue(id, out var known) ? known.Delta : CellStats.Empty;
        _cells[id] = (contribution.Key, delta.With(contribution, sign));
    }

    /// <summary>The ids of the cells the recorded changes touch.</summary>
    public IEnumerable<string> TouchedCellIds
    {
        get
        {
            Settle();
            return _cells.Keys;
        }
    }

    /// <summary>The clinics whose activity the recorded changes touch.</summary>
    public IEnumerable<string> TouchedClinics
    {
        get
        {
            Settle();
            return _activity.Select(a => a.Clinic).Distinct();
        }
    }

    /// <summary>Adds the recorded changes to <paramref name="cells"/> (creating cells as needed) and
    /// returns the cells touched, stamped with <paramref name="sequence"/>.</summary>
    public IReadOnlyCollection<OutcomeCell> ApplyTo(IDictionary<string, OutcomeCell> cells, long sequence)
    {
        Settle();
        var touched = new List<OutcomeCell>();
        foreach (var (id, (key, delta)) in _cells)
        {
            var stats = (cells.TryGetValue(id, out var cell) ? cell.Stats : CellStats.Empty).Plus(delta);
            cells[id] = cell = OutcomeCell.Of(key, stats, sequence);
            touched.Add(cell);
        }
        _cells.Clear();
        return touched;
    }

    /// <summary>Adds the recorded activity changes to the clinics' tallies (creating them as needed)
    /// and returns those touched, stamped with <paramref name="sequence"/>.</summary>
    public IReadOnlyCollection<ClinicTally> ApplyTo(IDictionary<string, ClinicTally> tallies, long sequence)
    {
        Settle();
        var touched = new HashSet<ClinicTally>();
        foreach (var (clinic, activity, sign) in _activity)
        {
            if (!tallies.TryGetValue(clinic, out var tally)) tallies[clinic] = tally = new ClinicTally { Id = clinic };
            tally.Apply(activity, sign);
            tally.Sequence = sequence;
            touched.Add(tally);
        }
        _activity.Clear();
        return touched;
    }

    /// <summary>Every cell and clinic tally, computed from scratch from a stream of events.</summary>
    public static (IReadOnlyDictionary<string, OutcomeCell> Cells, IReadOnlyDictionary<string, ClinicTally> Tallies, long Sequence) Replay(IEnumerable<IEvent> events)
    {
        var ledger = new OutcomeLedger([]);
        foreach (var e in events) ledger.Apply(e);
        var cells = new Dictionary<string, OutcomeCell>();
        var tallies = new Dictionary<string, ClinicTally>();
        ledger.ApplyTo(cells, ledger.LastSequence);
        ledger.ApplyTo(tallies, ledger.LastSequence);
        return (cells.Where(c => !c.Value.Stats.IsEmpty).ToDictionary(), tallies, ledger.LastSequence);
    }
}

using JasperFx.Events;
using MatOutcomes.Platform.Episodes;

namespace MatOutcomes.Platform.Outcomes.Projecting;

/// <summary>Records how each changed episode's contributions move: the old ones (from its summary)
/// leave their outcome cell and their clinic's activity, the new ones (from the episode as it now
/// stands) enter. A summary does not hold its episode: the ledger is given each changed episode
/// whole, folded from its first event, either event by event or as the log replays it. Pure and in
/// memory; the projection and the tests use it.</summary>
public sealed class OutcomeLedger(IEnumerable<EpisodeSummary> known)
{
    private readonly Dictionary<string, EpisodeSummary> _summaries = known.ToDictionary(s => s.Id);
    private readonly Dictionary<string, Episode?> _episodes = [];
    private readonly Dictionary<string, (CellKey Key, CellStats Delta)> _cells = [];
    private readonly List<(string Clinic, ActivityContribution Activity, int Sign)> _activity = [];

    public long LastSequence { get; private set; }

    public void Apply(IEvent e) => Apply(e.TenantId, e.StreamId, e.Id, (int)e.Version, e.Sequence, e.Data);

    /// <summary>Folds one event into its episode. The ledger's first event for an episode must be
    /// the episode's first: what came before is not in the summary.</summary>
    public void Apply(string clinic, Guid episodeId, Guid eventId, int position, long sequence, object data)
    {
        var summary = SummaryOf(clinic, episodeId);
        _episodes[summary.Id] = Episode.Fold(_episodes.GetValueOrDefault(summary.Id), episodeId, eventId, position, data);
        Record(summary, sequence);
    }

    /// <summary>Takes an episode as the log holds it, folded from its first event.</summary>
    public void Apply(Rebuilding.ReplayedEpisode replayed)
    {
        var summary = SummaryOf(replayed.Clinic, replayed.EpisodeId);
        _episodes[summary.Id] = replayed.Episode;
        Record(summary, replayed.LastSequence);
    }

    private EpisodeSummary SummaryOf(string clinic, Guid episodeId)
    {
        var id = EpisodeSummary.IdFor(clinic, episodeId);
        if (!_summaries.TryGetValue(id, out var summary))
            _summaries[id] = summary = new EpisodeSummary { Id = id, Clinic = clinic, EpisodeId = episodeId };
        return summary;
    }

    private void Record(EpisodeSummary summary, long sequence)
    {
        summary.LastSequence = sequence;
        LastSequence = Math.Max(LastSequence, sequence);
        _changed.Add(summary);
        _unsettled.Add(summary);
    }

    private readonly HashSet<EpisodeSummary> _changed = [];

    /// <summary>The summaries of the episodes given, with their contributions settled.</summary>
    public IReadOnlyCollection<EpisodeSummary> Changed
    {
        get
        {
            Settle();
            return _changed;
        }
    }

    // Cells only ever see an episode as it stands at the end of a batch, so its contributions are
    // worked out once per batch, not once per event (a bulk push brings whole episodes at a time).
    private readonly HashSet<EpisodeSummary> _unsettled = [];

    private void Settle()
    {
        foreach (var summary in _unsettled)
        {
            var episode = _episodes[summary.Id];
            var next = episode is null ? null : Contribution.Of(summary.Clinic, episode);
            if (!Equals(next, summary.Contribution))
            {
                if (summary.Contribution is { } old) Move(old, -1);
                if (next is not null) Move(next, +1);
                summary.Contribution = next;
                summary.CellId = next?.Key.Id;
            }

            var activity = ActivityContribution.Of(episode);
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

using JasperFx.Events;
using MatOutcomes.Platform.Episodes;

namespace MatOutcomes.Platform.Dashboard.Tracking;

/// <summary>Folds events into episodes and records how each changed episode's activity moves:
/// its old contribution leaves its days and trajectory, the new one enters. A voided session
/// therefore leaves the day it was recorded on, whichever day the void arrives. Pure and in
/// memory; the projection and the tests both use it.</summary>
public sealed class ActivityLedger(IEnumerable<ActivityEpisode> known)
{
    private readonly Dictionary<string, ActivityEpisode> _episodes = known.ToDictionary(e => e.Id);
    private readonly List<(ActivityContribution Contribution, int Sign)> _deltas = [];

    public HashSet<ActivityEpisode> Changed { get; } = [];

    public void Apply(IEvent e) => Apply(e.TenantId, e.StreamId, e.Id, (int)e.Version, e.Data);

    public void Apply(string clinic, Guid episodeId, Guid eventId, int position, object data)
    {
        var id = ActivityEpisode.IdFor(clinic, episodeId);
        if (!_episodes.TryGetValue(id, out var state)) _episodes[id] = state = new ActivityEpisode { Id = id };

        state.Episode = Episode.Fold(state.Episode, episodeId, eventId, position, data);
        Changed.Add(state);

        var next = ActivityContribution.Of(clinic, state.Episode);
        if (next?.SameAs(state.Contribution) ?? state.Contribution is null) return;
        if (state.Contribution is { } old) _deltas.Add((old, -1));
        if (next is not null) _deltas.Add((next, +1));
        state.Contribution = next;
    }

    /// <summary>Net change in sessions per (clinic, day) over everything applied so far, zeros dropped.</summary>
    public IReadOnlyDictionary<(string Clinic, DateOnly Date), int> DayChanges() =>
        _deltas.SelectMany(d => d.Contribution.Days.Select(day => (Key: (d.Contribution.Clinic, day.Date), By: d.Sign * day.Sessions)))
            .GroupBy(x => x.Key)
            .Select(g => (g.Key, By: g.Sum(x => x.By)))
            .Where(x => x.By != 0)
            .ToDictionary(x => x.Key, x => x.By);

    public IEnumerable<string> TouchedClinics => _deltas.Select(d => d.Contribution.Clinic).Distinct();

    /// <summary>Moves the recorded contributions into the clinics' trajectories (creating them as
    /// needed) and returns those touched.</summary>
    public IReadOnlyCollection<ClinicTrajectory> ApplyTo(IDictionary<string, ClinicTrajectory> trajectories)
    {
        var touched = new HashSet<ClinicTrajectory>();
        foreach (var (contribution, sign) in _deltas)
        {
            if (!trajectories.TryGetValue(contribution.Clinic, out var trajectory))
                trajectories[contribution.Clinic] = trajectory = new ClinicTrajectory { Id = contribution.Clinic };
            for (var point = 0; point < contribution.Pain.Count; point++) trajectory.Apply(point, contribution.Pain[point], sign);
            touched.Add(trajectory);
        }
        return touched;
    }
}

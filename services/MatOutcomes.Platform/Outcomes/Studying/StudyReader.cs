using Marten;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Rebuilding;
using MatOutcomes.Platform.Outcomes.Releasing;

namespace MatOutcomes.Platform.Outcomes.Studying;

public sealed class PrivacyOptions
{
    /// <summary>Smallest number of patients any published figure may stand on (CMS uses 11).</summary>
    public int K { get; set; } = 11;
}

/// <summary>The releases a study is computed from: the latest, or an earlier one named by its
/// sequence (replayed from the log, and remembered for a while). Research figures never come from
/// the live read models: two answers a moment apart would differ by one patient.</summary>
public sealed class StudyReader(Releases releases)
{
    public Task<ReleaseSnapshot> CurrentAsync(CancellationToken cancellation) => releases.LatestAsync(cancellation);

    /// <summary>The release cut at <paramref name="sequence"/>; null when no release was.</summary>
    public Task<ReleaseSnapshot?> AsOfAsync(long sequence, CancellationToken cancellation) => releases.AtSequenceAsync(sequence, cancellation);

    public const string NotARelease = "must be the sequence of a release (every result states its release's sequence; `releases` lists them)";
}

/// <summary>Rebuilds the cube as of an event sequence by replaying the log through the projection's
/// own rules. The events stream in episode order, one episode folded at a time, so memory holds the
/// cells and one episode, never the log. Exact at any sequence and unchanged by later events or
/// rebuilds; costs O(events), unlike live queries. The last few replays are remembered and
/// concurrent requests for one sequence share a replay.</summary>
public sealed class CubeReplay(IDocumentStore store, ClinicDirectory clinics)
{
    // A replay holds a whole cube: a few are remembered (saved studies re-run at their release).
    private const int Kept = 3;
    private readonly Lock _lock = new();
    private readonly LinkedList<(long Sequence, Task<CubeSnapshot> Replay)> _recent = [];

    public Task<CubeSnapshot> AsOfAsync(long sequence, CancellationToken cancellation)
    {
        lock (_lock)
        {
            foreach (var (known, task) in _recent)
                if (known == sequence && !task.IsFaulted && !task.IsCanceled) return task.WaitAsync(cancellation);
            // The replay outlives the request that started it: others may be waiting for it too.
            var replay = ReplayAsync(sequence, CancellationToken.None);
            _recent.AddFirst((sequence, replay));
            while (_recent.Count > Kept) _recent.RemoveLast();
            return replay.WaitAsync(cancellation);
        }
    }

    private async Task<CubeSnapshot> ReplayAsync(long sequence, CancellationToken cancellation)
    {
        var writer = new CubeWriter(clinics);
        var cells = new Dictionary<string, (CellKey Key, CellStats Stats)>(StringComparer.Ordinal);
        var tallies = new Dictionary<string, ClinicTally>(StringComparer.Ordinal);
        await foreach (var replayed in EpisodeReplay.ReadAsync(store, sequence, cancellation))
        {
            if (replayed.Episode is not { } episode) continue;
            if (Contribution.Of(replayed.Clinic, episode) is { } contribution)
                cells[contribution.Key.Id] = (contribution.Key, (cells.TryGetValue(contribution.Key.Id, out var known) ? known.Stats : CellStats.Empty).With(contribution, +1));
            if (ActivityContribution.Of(episode) is { } activity)
            {
                if (!tallies.TryGetValue(replayed.Clinic, out var tally))
                    tallies[replayed.Clinic] = tally = new ClinicTally { Id = replayed.Clinic, Sequence = sequence };
                tally.Apply(activity, +1);
            }
        }
        writer.Load(cells.Values);
        foreach (var tally in tallies.Values) writer.SetTally(tally);
        writer.Sequence = sequence;
        return writer.Publish(live: false);
    }
}

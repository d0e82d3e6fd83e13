using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Tests.Support;

/// <summary>Cube snapshots built in memory by the platform's own writer, for tests of what is
/// computed from them.</summary>
public static class Cubes
{
    public static CubeSnapshot Of(IEnumerable<OutcomeCell> cells, IEnumerable<ClinicTally>? tallies = null, long sequence = 1)
    {
        var writer = new CubeWriter(new ClinicDirectory());
        writer.Load(cells.Select(c => (c.Key, c.Stats)));
        foreach (var tally in tallies ?? []) writer.SetTally(tally);
        writer.Sequence = sequence;
        return writer.Publish(live: true);
    }

    public static CubeSnapshot Of(IEnumerable<Contribution> contributions, long sequence = 1)
    {
        var writer = new CubeWriter(new ClinicDirectory());
        foreach (var contribution in contributions) writer.Add(contribution);
        writer.Sequence = sequence;
        return writer.Publish(live: true);
    }

    /// <summary>First-reach times for an episode that never improved below its baseline.</summary>
    public static int[] NeverReached(int baseline) => Enumerable.Repeat(-1, baseline).ToArray();
}

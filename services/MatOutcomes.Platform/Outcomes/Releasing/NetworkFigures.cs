using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Releasing;

/// <summary>The network side of the managers' dashboards, decided when a release is cut: what every
/// clinic's dashboard compares itself with. Each figure sums only clinics with at least k
/// contributors to it, and the clinics left out must together hold 0 or at least k (else the next
/// smallest is left out too), so the network minus any clinics a manager can see is never a small
/// group. And each figure moves only when k or more contributors changed since it was last
/// published; otherwise the release keeps the earlier figure, so watching every update reveals no
/// single patient.</summary>
public sealed record NetworkFigures(
    int Release,
    GroupTally Early,
    GroupTally Chronic,
    IReadOnlyList<long[]> Pain,
    long[] XtX,
    long[] Xty,
    long Yty,
    int BenchmarkedClinics)
{
    public static readonly NetworkFigures None = new(0, default, default, [], new long[Design.Width * Design.Width], new long[Design.Width], 0, 0);

    public Moments PainAt(int point) => point < Pain.Count ? new Moments(Pain[point][0], Pain[point][1], Pain[point][2]) : Moments.Zero;

    public static NetworkFigures Decide(int release, CubeSnapshot snapshot, NetworkFigures? previous, int k)
    {
        var clinics = snapshot.ClinicOutcomes.Values.ToList();
        var early = Steps(Sum(clinics.Select(c => c.Early), k), previous?.Early, k);
        var chronic = Steps(Sum(clinics.Select(c => c.Chronic), k), previous?.Chronic, k);

        var pain = Enumerable.Range(0, ActivityContribution.Points).Select(p =>
        {
            var included = Included(snapshot.Tallies.Values.Select(t => t.PainAt(p).N).ToList(), k);
            var sum = new long[3];
            foreach (var (tally, i) in snapshot.Tallies.Values.Select((t, i) => (t, i)))
            {
                if (!included.Contains(i)) continue;
                var m = tally.PainAt(p);
                sum[0] += m.N;
                sum[1] += (long)m.Sum;
                sum[2] += (long)m.SumOfSquares;
            }
            var before = previous?.Pain.ElementAtOrDefault(p);
            return before is not null && sum.AsSpan().SequenceEqual(before) is false && Math.Abs(sum[0] - before[0]) < k ? before : sum;
        }).ToList();

        // The benchmark model, fitted on the clinics whose own benchmark could be shown.
        var benchmarked = Included(clinics.Select(c => c.All.ChangeN).ToList(), k);
        var xtx = new long[Design.Width * Design.Width];
        var xty = new long[Design.Width];
        long yty = 0;
        foreach (var i in benchmarked)
        {
            for (var j = 0; j < xtx.Length; j++) xtx[j] += clinics[i].XtX[j];
            for (var j = 0; j < xty.Length; j++) xty[j] += clinics[i].Xty[j];
            yty += clinics[i].Yty;
        }
        if (previous is not null && (xtx[0] != previous.XtX[0] || xty[0] != previous.Xty[0] || yty != previous.Yty) && Math.Abs(xtx[0] - previous.XtX[0]) < k)
            (xtx, xty, yty) = (previous.XtX, previous.Xty, previous.Yty);
        return new NetworkFigures(release, early, chronic, pain, xtx, xty, yty, benchmarked.Count);
    }

    /// <summary>Which clinics (by position) a figure sums: those with at least k contributors, less
    /// the smallest of them while the ones left out hold between 1 and k − 1 together.</summary>
    private static HashSet<int> Included(IReadOnlyList<long> contributors, int k)
    {
        var included = Enumerable.Range(0, contributors.Count).Where(i => contributors[i] >= k).ToHashSet();
        long Left() => Enumerable.Range(0, contributors.Count).Where(i => !included.Contains(i)).Sum(i => contributors[i]);
        while (included.Count > 0 && Left() is > 0 and var left && left < k)
            included.Remove(included.OrderBy(i => contributors[i]).ThenBy(i => i).First());
        return included;
    }

    private static GroupTally Sum(IEnumerable<GroupTally> clinics, int k)
    {
        var list = clinics.ToList();
        var patients = Included(list.Select(c => c.Patients).ToList(), k);
        var relief = Included(list.Select(c => c.Relief.N).ToList(), k);
        var scored = Included(list.Select(c => c.ChangeN).ToList(), k);
        return new GroupTally(
            patients.Sum(i => list[i].Patients),
            relief.Aggregate(default(FixedMoments), (m, i) => m + list[i].Relief),
            scored.Sum(i => list[i].ChangeN), scored.Sum(i => list[i].ChangeSum), scored.Sum(i => list[i].ChangeSumOfSquares),
            scored.Sum(i => list[i].Responders));
    }

    /// <summary>Each part of a group's figures moves only in steps of k contributors.</summary>
    private static GroupTally Steps(GroupTally now, GroupTally? before, int k)
    {
        if (before is not { } then) return now;
        bool Keep(long nowN, long thenN, bool same) => !same && Math.Abs(nowN - thenN) < k;
        var patients = Keep(now.Patients, then.Patients, now.Patients == then.Patients) ? then.Patients : now.Patients;
        var relief = Keep(now.Relief.N, then.Relief.N, now.Relief == then.Relief) ? then.Relief : now.Relief;
        var change = Keep(now.ChangeN, then.ChangeN,
            (now.ChangeN, now.ChangeSum, now.ChangeSumOfSquares, now.Responders) == (then.ChangeN, then.ChangeSum, then.ChangeSumOfSquares, then.Responders));
        return change
            ? new GroupTally(patients, relief, then.ChangeN, then.ChangeSum, then.ChangeSumOfSquares, then.Responders)
            : new GroupTally(patients, relief, now.ChangeN, now.ChangeSum, now.ChangeSumOfSquares, now.Responders);
    }
}

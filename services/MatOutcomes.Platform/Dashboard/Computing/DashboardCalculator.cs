using MatOutcomes.Platform.Dashboard.Tracking;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Dashboard.Computing;

/// <summary>What the network-wide comparisons are computed from: every outcome cell and every
/// clinic's pain curve. Costs O(cells) to read, so it is refreshed every few seconds, not per update.</summary>
public sealed record NetworkView(IReadOnlyList<OutcomeCell> Cells, IReadOnlyList<ClinicTrajectory> Trajectories, DateTimeOffset ReadAt);

/// <summary>One clinic's own read models, read fresh for each update: its cells (with the event
/// sequence they include), its pain curve, its sessions per day, and the projection's lag.</summary>
public sealed record ClinicView(
    string Clinic,
    IReadOnlyList<OutcomeCell> Cells,
    long Sequence,
    ClinicTrajectory? Trajectory,
    IReadOnlyDictionary<DateOnly, int> SessionsByDay,
    ProjectionStatus Lag);

/// <summary>Sufficient statistics of one group of episodes for the dashboard's three outcomes.</summary>
internal sealed record GroupSums(long Patients, Moments Relief, Moments Change, long Responders)
{
    public static readonly GroupSums Zero = new(0, Moments.Zero, Moments.Zero, 0);

    public static GroupSums Of(IEnumerable<OutcomeCell> cells, StudyQuery rule)
    {
        var sums = CellSums.Of(cells);
        var pairs = sums.Pairs().ToList();
        return new GroupSums(sums.Patients, sums.Relief,
            CellSums.MomentsOf(pairs.Select(p => ((double)(p.Baseline - p.Latest), p.Count))),
            pairs.Where(p => rule.NprsResponder(p.Baseline, p.Latest)).Sum(p => p.Count));
    }

    public static GroupSums operator +(GroupSums a, GroupSums b) =>
        new(a.Patients + b.Patients, a.Relief + b.Relief, a.Change + b.Change, a.Responders + b.Responders);

    /// <summary>The network's figure for the group: each statistic sums only the clinics that have
    /// at least k patients behind it. Any difference of two such sums (the network minus the
    /// clinics a manager can see) is then again over at least k patients, or over none.</summary>
    public static GroupSums Network(IEnumerable<GroupSums> clinics, int k)
    {
        var list = clinics.ToList();
        var scored = list.Where(c => c.Change.N >= k).ToList();
        return new GroupSums(
            list.Where(c => c.Patients >= k).Sum(c => c.Patients),
            list.Where(c => c.Relief.N >= k).Aggregate(Moments.Zero, (m, c) => m + c.Relief),
            scored.Aggregate(Moments.Zero, (m, c) => m + c.Change),
            scored.Sum(c => c.Responders));
    }
}

/// <summary>Turns a clinic's own read models, beside the network's, into its dashboard. Pure: the
/// same views and clock give the same figures. The network-wide parts (group sums, benchmark
/// model, pain curve) are computed once per network view and shared by every clinic.</summary>
public sealed class DashboardCalculator
{
    /// <summary>All episodes, in care and discharged; early below 12 weeks; responder at 2 points and 30%.</summary>
    private static readonly StudyQuery Rule = new() { IncludeActive = true };

    private readonly int _k;
    private readonly GroupSums _networkEarly;
    private readonly GroupSums _networkChronic;
    private readonly HashSet<string> _benchmarked;
    private readonly AdjustedModel? _model;
    private readonly Moments[] _networkPain;

    public DashboardCalculator(NetworkView view, int k)
    {
        View = view;
        _k = k;
        var groups = view.Cells.GroupBy(c => c.Key.Clinic).ToDictionary(g => g.Key, g => Groups(g.ToList()));
        _networkEarly = GroupSums.Network(groups.Values.Select(g => g.Early), k);
        _networkChronic = GroupSums.Network(groups.Values.Select(g => g.Chronic), k);

        // The benchmark model is fitted on the clinics whose own benchmark could be shown, for the
        // same reason the network sums leave small clinics out.
        _benchmarked = groups.Where(g => (g.Value.Early + g.Value.Chronic).Change.N >= k).Select(g => g.Key).ToHashSet();
        var fitted = view.Cells.Where(c => _benchmarked.Contains(c.Key.Clinic)).ToList();
        _model = fitted.Count == 0 ? null : AdjustedModel.Fit(fitted, Rule.IsEarly, (baseline, latest) => baseline - latest);

        _networkPain = Enumerable.Range(0, ActivityContribution.Points)
            .Select(p => view.Trajectories.Select(t => At(t, p)).Where(m => m.N >= k).Aggregate(Moments.Zero, (a, b) => a + b))
            .ToArray();
    }

    public NetworkView View { get; }

    private static (GroupSums Early, GroupSums Chronic) Groups(IReadOnlyCollection<OutcomeCell> cells) => (
        GroupSums.Of(cells.Where(c => Rule.IsEarly(c.Key)), Rule),
        GroupSums.Of(cells.Where(c => !Rule.IsEarly(c.Key)), Rule));

    public DashboardFigures For(ClinicView clinic, DateOnly today, DateTimeOffset now, int recentDays)
    {
        var (early, chronic) = Groups(clinic.Cells);
        var (clinicEarly, clinicChronic) = Split(early, chronic);
        var active = clinic.Cells.Where(c => !c.Key.Completed).ToList();

        return new DashboardFigures(
            clinic.Clinic, now, clinic.Sequence, _k,
            Activity(clinic.SessionsByDay, today, active.Sum(c => c.Episodes), recentDays),
            Outcomes(early + chronic),
            Mix(active.Where(c => Rule.IsEarly(c.Key)).Sum(c => c.Episodes), active.Where(c => !Rule.IsEarly(c.Key)).Sum(c => c.Episodes)),
            BenchmarkOf((early + chronic).Change.N, clinic.Cells),
            Pain(clinic.Trajectory),
            [
                new CohortFigures("early", clinicEarly, Outcomes(_networkEarly)),
                new CohortFigures("chronic", clinicChronic, Outcomes(_networkChronic)),
            ],
            clinic.Lag);
    }

    private static ActivityFigures Activity(IReadOnlyDictionary<DateOnly, int> sessionsByDay, DateOnly today, int activeEpisodes, int recentDays)
    {
        var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
        var days = Enumerable.Range(0, recentDays).Select(i => today.AddDays(i - recentDays + 1))
            .Select(d => new DaySessions(d, sessionsByDay.GetValueOrDefault(d))).ToList();
        return new ActivityFigures(today, sessionsByDay.GetValueOrDefault(today),
            sessionsByDay.Where(d => d.Key >= monday && d.Key <= today).Sum(d => d.Value), activeEpisodes, days);
    }

    private OutcomeFigures Outcomes(GroupSums s) => new(
        s.Patients >= _k ? s.Patients : null,
        Mean(s.Relief), Mean(s.Change), Proportion(s.Responders, s.Change.N));

    /// <summary>The clinic's early and chronic figures beside its overall ones: a statistic shown for
    /// one group and the total would give away the other, so a small group hides both.</summary>
    private (OutcomeFigures, OutcomeFigures) Split(GroupSums a, GroupSums b)
    {
        bool Small(long n) => n > 0 && n < _k;
        var hidePatients = Small(a.Patients) || Small(b.Patients);
        var hideRelief = Small(a.Relief.N) || Small(b.Relief.N);
        var hideChange = Small(a.Change.N) || Small(b.Change.N);
        OutcomeFigures Of(GroupSums s) => new(
            hidePatients || s.Patients < _k ? null : s.Patients,
            hideRelief ? Figure.Withheld : Mean(s.Relief),
            hideChange ? Figure.Withheld : Mean(s.Change),
            hideChange ? Figure.Withheld : Proportion(s.Responders, s.Change.N));
        return (Of(a), Of(b));
    }

    private CaseMix Mix(long early, long chronic) =>
        (early == 0 || early >= _k) && (chronic == 0 || chronic >= _k) ? new(early, chronic, false) : new(null, null, true);

    private Benchmark BenchmarkOf(long scored, IReadOnlyCollection<OutcomeCell> cells)
    {
        // One clinic alone is its own expectation: nothing to compare with yet.
        if (_model is not { Fitted: true } || scored < _k || _benchmarked.Count < 2)
            return new Benchmark(Figure.Withheld, null, null, _benchmarked.Count);
        var b = _model.Benchmarks(cells, _k, suppressed: false).Single();
        return b.Suppressed
            ? new Benchmark(Figure.Withheld, null, null, _benchmarked.Count)
            : new Benchmark(new Figure(b.ObservedMinusExpected, b.Lower, b.Upper, b.N, false), b.Observed, b.Expected, _benchmarked.Count);
    }

    private IReadOnlyList<PainPoint> Pain(ClinicTrajectory? own) => Enumerable.Range(0, ActivityContribution.Points)
            .Select(p => new PainPoint(p, p == 0 ? "Intake" : $"S{p}", Mean(own is null ? Moments.Zero : At(own, p)), Mean(_networkPain[p])))
            .ToList();

    private static Moments At(ClinicTrajectory trajectory, int point) =>
        point < trajectory.Points.Count ? trajectory.Points[point] : Moments.Zero;

    private Figure Mean(Moments m)
    {
        var e = Statistics.Mean(m.N, m.Sum, m.SumOfSquares, _k);
        return e.Suppressed ? Figure.Withheld : new Figure(e.Mean, e.Lower, e.Upper, e.N, false);
    }

    private Figure Proportion(long count, long n)
    {
        var e = Statistics.Proportion(count, n, _k);
        return e.Suppressed ? Figure.Withheld : new Figure(e.Proportion, e.Lower, e.Upper, e.N, false);
    }
}

using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Dashboard.Computing;

/// <summary>Turns one clinic's running sums (live: a manager sees their own clinic as it is), beside
/// the network's figures of the latest release (decided when it was cut: see
/// <see cref="NetworkFigures"/>), into its dashboard. Pure: the same snapshot, network and clock give
/// the same figures; a clinic's own figures cost O(1).</summary>
public sealed class DashboardCalculator
{
    private readonly int _k;
    private readonly CubeSnapshot _snapshot;
    private readonly NetworkFigures _network;
    private readonly AdjustedModel? _model;

    public DashboardCalculator(CubeSnapshot snapshot, NetworkFigures network, int k)
    {
        _snapshot = snapshot;
        _network = network;
        _k = k;
        var fitted = new ModelSums();
        fitted.AddChange(network.XtX, network.Xty, network.Yty);
        _model = network.BenchmarkedClinics == 0 ? null : AdjustedModel.Fit(fitted, ModelOutcome.Change);
    }

    public long Sequence => _snapshot.Sequence;

    public DashboardFigures For(string clinic, DateOnly today, DateTimeOffset now, int recentDays, ProjectionStatus lag)
    {
        var index = _snapshot.ClinicIndex(clinic);
        var own = index is { } i ? _snapshot.ClinicOutcomes.GetValueOrDefault(i) ?? ClinicOutcomes.Empty : ClinicOutcomes.Empty;
        var tally = _snapshot.Tallies.GetValueOrDefault(clinic);
        var (clinicEarly, clinicChronic) = Split(own.Early, own.Chronic);

        return new DashboardFigures(
            clinic, now, _snapshot.Sequence, _k,
            Activity(tally?.SessionsByDay ?? [], today, own.ActiveEarly + own.ActiveChronic, recentDays),
            Outcomes(own.All),
            Mix(own.ActiveEarly, own.ActiveChronic),
            BenchmarkOf(own),
            Pain(tally),
            [
                new CohortFigures("early", clinicEarly, Outcomes(_network.Early)),
                new CohortFigures("chronic", clinicChronic, Outcomes(_network.Chronic)),
            ],
            lag);
    }

    private static ActivityFigures Activity(IReadOnlyDictionary<DateOnly, int> sessionsByDay, DateOnly today, long activeEpisodes, int recentDays)
    {
        var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
        var days = Enumerable.Range(0, recentDays).Select(i => today.AddDays(i - recentDays + 1))
            .Select(d => new DaySessions(d, sessionsByDay.GetValueOrDefault(d))).ToList();
        var week = Enumerable.Range(0, today.DayNumber - monday.DayNumber + 1).Sum(i => sessionsByDay.GetValueOrDefault(monday.AddDays(i)));
        return new ActivityFigures(today, sessionsByDay.GetValueOrDefault(today), week, (int)activeEpisodes, days);
    }

    private OutcomeFigures Outcomes(GroupTally s) => new(
        s.Patients >= _k ? s.Patients : null,
        Mean(s.Relief), Mean(s.Change), Proportion(s.Responders, s.ChangeN));

    /// <summary>The clinic's early and chronic figures beside its overall ones: a statistic shown for
    /// one group and the total would give away the other, so a small group hides both.</summary>
    private (OutcomeFigures, OutcomeFigures) Split(GroupTally a, GroupTally b)
    {
        bool Small(long n) => n > 0 && n < _k;
        var hidePatients = Small(a.Patients) || Small(b.Patients);
        var hideRelief = Small(a.Relief.N) || Small(b.Relief.N);
        var hideChange = Small(a.ChangeN) || Small(b.ChangeN);
        OutcomeFigures Of(GroupTally s) => new(
            hidePatients || s.Patients < _k ? null : s.Patients,
            hideRelief ? Figure.Withheld : Mean(s.Relief),
            hideChange ? Figure.Withheld : Mean(s.Change),
            hideChange ? Figure.Withheld : Proportion(s.Responders, s.ChangeN));
        return (Of(a), Of(b));
    }

    private CaseMix Mix(long early, long chronic) =>
        (early == 0 || early >= _k) && (chronic == 0 || chronic >= _k) ? new(early, chronic, false) : new(null, null, true);

    private Benchmark BenchmarkOf(ClinicOutcomes own)
    {
        // One clinic alone is its own expectation: nothing to compare with yet.
        var benchmarked = _network.BenchmarkedClinics;
        if (_model is not { Fitted: true } || own.All.ChangeN < _k || benchmarked < 2)
            return new Benchmark(Figure.Withheld, null, null, benchmarked);
        var sums = new ModelSums();
        sums.AddChange(own.XtX, own.Xty, own.Yty);
        var b = _model.Benchmark("", sums, ModelOutcome.Change, _k, suppressed: false);
        return b.Suppressed
            ? new Benchmark(Figure.Withheld, null, null, benchmarked)
            : new Benchmark(new Figure(b.ObservedMinusExpected, b.Lower, b.Upper, b.N, false), b.Observed, b.Expected, benchmarked);
    }

    private IReadOnlyList<PainPoint> Pain(ClinicTally? own) => Enumerable.Range(0, ActivityContribution.Points)
        .Select(p => new PainPoint(p, p == 0 ? "Intake" : $"S{p}", Mean(own?.PainAt(p) ?? Moments.Zero), Mean(_network.PainAt(p))))
        .ToList();

    private Figure Mean(Moments m)
    {
        var e = Statistics.Mean(m.N, m.Sum, m.SumOfSquares, _k);
        return e.Suppressed ? Figure.Withheld : new Figure(e.Mean, e.Lower, e.Upper, e.N, false);
    }

    private Figure Mean(FixedMoments m) => Mean(new Moments(m.N, m.SumValue, m.SumOfSquaresValue));

    private Figure Proportion(long count, long n)
    {
        var e = Statistics.Proportion(count, n, _k);
        return e.Suppressed ? Figure.Withheld : new Figure(e.Proportion, e.Lower, e.Upper, e.N, false);
    }
}

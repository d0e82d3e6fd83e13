using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Dashboard.Computing;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>The privacy rules of the network comparison, on cells folded in memory from events.</summary>
public class DashboardCalculatorTests
{
    private const int K = 11;
    private static readonly DateOnly Day = new(2026, 10, 5);
    private static readonly ProjectionStatus UpToDate = new(0, 0, 0);

    /// <summary>Episodes of one clinic: opened with <paramref name="weeks"/> of pain at NPRS 7, one session before which it was <paramref name="latest"/>.</summary>
    private static IEnumerable<(string Clinic, EpisodeScript Episode)> Episodes(string clinic, int count, int weeks, int latest,
        AgeBand age = AgeBand.From40To49) =>
        Enumerable.Range(0, count).Select(_ => (clinic, new EpisodeScript().Add(
            Sample.Opened(7, weeks, on: Day) with { AgeBand = age },
            new SessionRecorded(Day.AddDays(7), Sample.PractitionerPseudonym, SessionFormat.StandaloneMat, [Technique.MuscleLengthening],
                [ComplaintRegion.LowBack], 45, latest, latest - 1))));

    private static List<OutcomeCell> Cells(params IEnumerable<(string Clinic, EpisodeScript Episode)>[] groups)
    {
        var ledger = new OutcomeLedger([]);
        long sequence = 0;
        foreach (var (clinic, episode) in groups.SelectMany(g => g))
        foreach (var (e, i) in episode.Events.Select((e, i) => (e, i)))
            ledger.Apply(clinic, episode.Id, e.EventId, i + 1, ++sequence,
                System.Text.Json.JsonSerializer.Deserialize(e.Data.GetRawText(), EventTypes.ByName[e.Type], MatOutcomes.Contracts.ProtocolJson.Options)!);
        var cells = new Dictionary<string, OutcomeCell>();
        ledger.ApplyTo(cells, sequence);
        return [.. cells.Values];
    }

    private static DashboardFigures Figures(List<OutcomeCell> network, string clinic) =>
        Figures(Cubes.Of(network), clinic);

    private static DashboardFigures Figures(Platform.Outcomes.Cube.CubeSnapshot cube, string clinic) =>
        new DashboardCalculator(cube, NetworkFigures.Decide(1, cube, null, K), K).For(clinic, Day, DateTimeOffset.UnixEpoch, 14, UpToDate);

    [Fact]
    public void The_network_leaves_out_clinics_with_fewer_than_k_patients_behind_a_figure_together_at_least_k()
    {
        // Clinics a and c: 12 early patients each, 3 points better. Clinics b and d: 6 each, 6 points
        // better: each too small to stand in the network, but together 12, so the rest of the
        // network (a manager's view subtracted from it) is never a small group.
        var network = Cells(Episodes("clinic-a", 12, 4, latest: 4), Episodes("clinic-b", 6, 4, latest: 1),
            Episodes("clinic-c", 12, 4, latest: 4), Episodes("clinic-d", 6, 4, latest: 1));

        var early = Figures(network, "clinic-a").EarlyVersusChronic.Single(g => g.Cohort == "early").Network;

        Assert.Equal((24L, 3.0), (early.DurableChange.N!.Value, early.DurableChange.Value!.Value));
        Assert.Equal(24L, early.Patients);
    }

    [Fact]
    public void A_lone_small_clinic_takes_the_smallest_other_out_of_the_network_with_it()
    {
        // Clinic b alone would be the network minus clinic a: 3 patients. So a leaves too.
        var network = Cells(Episodes("clinic-a", 12, 4, latest: 4), Episodes("clinic-b", 3, 4, latest: 1));

        var early = Figures(network, "clinic-a").EarlyVersusChronic.Single(g => g.Cohort == "early").Network;

        Assert.Null(early.Patients);
        Assert.True(early.DurableChange.Suppressed);
    }

    /// <summary>A case mix the model can be fitted on: duration, age, region and baseline all vary.</summary>
    private static IEnumerable<(string Clinic, EpisodeScript Episode)> Varied(string clinic, int count, int better) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var baseline = 6 + i % 3;
            var latest = Math.Max(0, baseline - 1 - i % 4 - better);
            return (clinic, new EpisodeScript().Add(
                Sample.Opened(baseline, i % 2 == 0 ? 20 : 4, (i / 4) % 2 == 0 ? ComplaintRegion.Neck : ComplaintRegion.LowBack, on: Day)
                    with { AgeBand = (i / 2) % 2 == 0 ? AgeBand.From18To29 : AgeBand.From50To59 },
                new SessionRecorded(Day.AddDays(7), Sample.PractitionerPseudonym, SessionFormat.StandaloneMat, [Technique.MuscleLengthening],
                    [ComplaintRegion.LowBack], 45, latest, Math.Max(0, latest - 1))));
        });

    [Fact]
    public void A_clinic_is_benchmarked_only_against_a_network_of_at_least_two_clinics_with_k_patients()
    {
        // With a small clinic beside it, clinic a cannot be in the model alone (the model would be
        // the network minus the small clinic): nothing is benchmarked.
        var alone = Cells(Varied("clinic-a", 24, better: 0), Varied("clinic-b", 5, better: 1));
        var benchmark = Figures(alone, "clinic-a").Benchmark;
        Assert.Equal(Figure.Withheld, benchmark.ObservedMinusExpected);
        Assert.Equal(0, benchmark.NetworkClinics);

        var two = Cells(Varied("clinic-a", 24, better: 0), Varied("clinic-c", 24, better: 1));
        var shown = Figures(two, "clinic-a").Benchmark;
        Assert.False(shown.ObservedMinusExpected.Suppressed);
        Assert.Equal(2, shown.NetworkClinics);
        Assert.Equal(24, shown.ObservedMinusExpected.N);
        Assert.Equal(shown.Observed!.Value - shown.Expected!.Value, shown.ObservedMinusExpected.Value!.Value, 9);
        Assert.True(shown.ObservedMinusExpected.Value < 0, "clinic a improves its patients a point less than clinic c");
    }

    [Fact]
    public void A_clinic_with_fewer_than_k_patients_gets_no_numbers_at_all()
    {
        var figures = Figures(Cells(Episodes("clinic-a", 10, 20, latest: 4)), "clinic-a");

        Assert.Equal(OutcomeFigures.Withheld, figures.Outcomes);
        Assert.All(figures.EarlyVersusChronic, g => Assert.Equal(OutcomeFigures.Withheld, g.Clinic));
        Assert.Equal(new CaseMix(null, null, true), figures.Mix);
        Assert.Equal(10, figures.Activity.ActiveEpisodes);
    }
}

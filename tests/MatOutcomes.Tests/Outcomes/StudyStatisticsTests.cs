using System.Net.Http.Json;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>Every statistic of a cohort comparison, served from summed cells through HTTP after
/// the simulator's network went through the sync API and the async projection, equals a
/// from-scratch computation over the raw simulated episodes (per-episode loop, textbook formulas).</summary>
public class StudyStatisticsTests(NetworkFixture fixture) : IClassFixture<NetworkFixture>
{
    private const double Tolerance = 1e-9;

    /// <summary>The episodes a release publishes: discharged, from closed quarters.</summary>
    private List<RawEpisode> Completed => fixture.Network.Episodes.Select(RawEpisode.From)
        .Where(e => e is { Published: true }).Select(e => e!).ToList();

    private async Task<CohortComparison> Compare(StudyQuery query)
    {
        using var client = fixture.Client(fixture.Token(Roles.Researcher));
        var response = await client.PostAsJsonAsync("/api/studies/cohort-comparison", query, ProtocolJson.Options);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var result = (await response.Content.ReadFromJsonAsync<CohortComparison>(ProtocolJson.Options))!;
        var atoms = fixture.Network.Episodes.Select(RawEpisode.From).Where(e => e is not null)
            .GroupBy(e => (e!.Published, Atom: Platform.Outcomes.Projecting.PainDurations.Of(e.Weeks)))
            .Select(g => $"{g.Key}={g.Count()}");
        Assert.False(result.Suppressed, $"{result.SuppressionReason} {string.Join(", ", atoms)}");
        return result;
    }

    private static void Close(double expected, double? actual, string what) =>
        Assert.True(actual is { } a && Math.Abs(expected - a) <= Tolerance, $"{what}: expected {expected}, served {actual}");

    private static void SameMean(IReadOnlyList<double> values, MeanEstimate served, string what)
    {
        Assert.Equal(values.Count, served.N);
        var (mean, sd, lower, upper) = Textbook.MeanCi(values);
        Close(mean, served.Mean, what + " mean");
        Close(sd, served.Sd, what + " sd");
        Close(lower, served.Lower, what + " lower");
        Close(upper, served.Upper, what + " upper");
    }

    private static void SameProportion(int count, int n, ProportionEstimate served, string what)
    {
        Assert.Equal((n, count), (served.N, (int)served.Count!.Value));
        var (lower, upper) = Textbook.Wilson(count, n);
        Close((double)count / n, served.Proportion, what);
        Close(lower, served.Lower, what + " lower");
        Close(upper, served.Upper, what + " upper");
    }

    [Fact]
    public async Task Per_cohort_outcomes_equal_a_per_episode_computation()
    {
        var served = await Compare(new StudyQuery());
        foreach (var (cohort, episodes) in new[] { (served.Early, Completed.Where(e => e.Weeks < 12).ToList()), (served.Chronic, Completed.Where(e => e.Weeks >= 12).ToList()) })
        {
            Assert.False(cohort.Suppressed);
            Assert.Equal(episodes.Count, cohort.Patients);
            SameMean([.. episodes.Where(e => e.MeanRelief is not null).Select(e => e.MeanRelief!.Value)], cohort.ImmediateRelief, cohort.Cohort + " relief");
            var changes = episodes.Where(e => e.Change is not null).ToList();
            SameMean([.. changes.Select(e => (double)e.Change!.Value)], cohort.DurableNprsChange, cohort.Cohort + " durable change");
            SameMean([.. episodes.Where(e => e.NdiChange is not null).Select(e => (double)e.NdiChange!.Value)], cohort.NdiChange, cohort.Cohort + " NDI");
            SameMean([.. episodes.Where(e => e.OdiChange is not null).Select(e => e.OdiChange!.Value)], cohort.OdiChange, cohort.Cohort + " ODI");
            SameProportion(changes.Count(e => e.Change >= 2 && e.Change >= 0.3 * e.Baseline), changes.Count, cohort.NprsResponders, cohort.Cohort + " responders");
            SameProportion(episodes.Count(e => e.NdiChange >= 8), episodes.Count(e => e.NdiChange is not null), cohort.NdiResponders, cohort.Cohort + " NDI responders");
            SameProportion(episodes.Count(e => e.OdiChange >= 10), episodes.Count(e => e.OdiChange is not null), cohort.OdiResponders, cohort.Cohort + " ODI responders");
            SameProportion(episodes.Count(e => e.Relapsed), episodes.Count(e => e.FollowedUp), cohort.RelapseAtFollowUp, cohort.Cohort + " relapse");
        }
    }

    [Fact]
    public async Task Early_versus_chronic_differences_equal_the_textbook_formulas()
    {
        var served = await Compare(new StudyQuery());
        var early = Completed.Where(e => e.Weeks < 12 && e.Change is not null).ToList();
        var chronic = Completed.Where(e => e.Weeks >= 12 && e.Change is not null).ToList();
        double[] a = [.. early.Select(e => (double)e.Change!.Value)], b = [.. chronic.Select(e => (double)e.Change!.Value)];

        var (d, dl, du) = Textbook.Welch(a, b);
        Close(d, served.DurableChangeDifference.Estimate, "Welch difference");
        Close(dl, served.DurableChangeDifference.Lower, "Welch lower");
        Close(du, served.DurableChangeDifference.Upper, "Welch upper");

        var (g, gl, gu) = Textbook.HedgesG(a, b);
        Close(g, served.DurableChangeHedgesG.Estimate, "Hedges g");
        Close(gl, served.DurableChangeHedgesG.Lower, "g lower");
        Close(gu, served.DurableChangeHedgesG.Upper, "g upper");

        static bool Responds(RawEpisode e) => e.Change >= 2 && e.Change >= 0.3 * e.Baseline;
        var (rd, rl, ru) = Textbook.Newcombe(early.Count(Responds), early.Count, chronic.Count(Responds), chronic.Count);
        Close(rd, served.ResponderRiskDifference.Estimate, "risk difference");
        Close(rl, served.ResponderRiskDifference.Lower, "RD lower");
        Close(ru, served.ResponderRiskDifference.Upper, "RD upper");
        Close(1 / rd, served.NumberNeededToTreat.Estimate, "NNT");
        Assert.Equal(rl <= 0 && ru >= 0, served.NumberNeededToTreat.CiIncludesInfinity);
    }

    [Fact]
    public async Task Time_to_mcid_equals_kaplan_meier_walked_over_individuals()
    {
        var served = await Compare(new StudyQuery());
        foreach (var (cohort, episodes) in new[] { (served.Early, Completed.Where(e => e.Weeks < 12)), (served.Chronic, Completed.Where(e => e.Weeks >= 12)) })
        {
            var people = episodes.Select(e => (Time: e.SessionsToMcid ?? e.Sessions, Event: e.SessionsToMcid is not null)).ToList();
            var expected = Textbook.KaplanMeier(people).Where(p => p.AtRisk >= 11).ToList();
            Assert.Equal(expected.Select(p => (p.Time, (long)p.AtRisk)), cohort.SessionsToMcid.Curve.Select(p => (p.Sessions, p.AtRisk)));
            foreach (var (point, servedPoint) in expected.Zip(cohort.SessionsToMcid.Curve))
                Close(point.Survival, servedPoint.Survival, $"{cohort.Cohort} S({point.Time})");
            Assert.Equal(expected.FirstOrDefault(p => p.Survival <= 0.5).Time, (int)cohort.SessionsToMcid.MedianSessions!.Value);
        }
    }

    private static readonly ComplaintRegion[] Regions = Enum.GetValues<ComplaintRegion>();
    private static readonly AgeBand[] Ages = Enum.GetValues<AgeBand>();
    private static readonly Sex[] Sexes = Enum.GetValues<Sex>();
    private static readonly OccupationGroup[] Occupations = Enum.GetValues<OccupationGroup>();

    /// <summary>One design row per patient: intercept, early, dummies (first level as reference), baseline.</summary>
    private static (Matrix<double> X, int EarlyColumn) Design(IReadOnlyList<RawEpisode> episodes)
    {
        var rows = episodes.Select(e => new[] { 1.0, e.Weeks < 12 ? 1 : 0 }
            .Concat(Regions.Skip(1).Select(r => e.Region == r ? 1.0 : 0))
            .Concat(Ages.Skip(1).Select(a => e.Age == a ? 1.0 : 0))
            .Concat(Sexes.Skip(1).Select(s => e.Sex == s ? 1.0 : 0))
            .Concat(Occupations.Skip(1).Select(o => e.Occupation == o ? 1.0 : 0))
            .Append(e.Baseline).ToArray()).ToList();
        var used = Enumerable.Range(0, rows[0].Length).Where(c => rows.Any(r => r[c] != 0)).ToArray();
        return (Matrix<double>.Build.DenseOfRows(rows.Select(r => used.Select(c => r[c]))), Array.IndexOf(used, 1));
    }

    [Fact]
    public async Task The_risk_adjusted_difference_equals_least_squares_over_individual_patients()
    {
        var served = await Compare(new StudyQuery());
        var episodes = Completed.Where(e => e.Change is not null).ToList();
        var (x, early) = Design(episodes);

        foreach (var (outcome, estimate) in new (Func<RawEpisode, double>, AdjustedEstimate)[]
                 {
                     (e => e.Change!.Value, served.AdjustedDurableChangeDifference),
                     (e => e.Change >= 2 && e.Change >= 0.3 * e.Baseline ? 1 : 0, served.AdjustedResponderDifference),
                 })
        {
            var y = Vector<double>.Build.DenseOfEnumerable(episodes.Select(outcome));
            var (beta, se, df) = Textbook.Ols(x, y);
            var half = StudentT.InvCDF(0, 1, df, 0.975) * se[early];
            Assert.Equal(episodes.Count, estimate.N);
            Close(beta[early], estimate.Estimate, "adjusted difference");
            Close(se[early], estimate.StandardError, "adjusted SE");
            Close(beta[early] - half, estimate.Lower, "adjusted lower");
            Close(beta[early] + half, estimate.Upper, "adjusted upper");
        }
    }

    [Fact]
    public async Task Clinic_benchmarks_are_observed_minus_expected_under_the_network_model()
    {
        var served = await Compare(new StudyQuery());
        var episodes = Completed.Where(e => e.Change is not null).ToList();
        var (x, _) = Design(episodes);
        var y = Vector<double>.Build.DenseOfEnumerable(episodes.Select(e => (double)e.Change!.Value));
        var (beta, _, df) = Textbook.Ols(x, y);
        var fitted = x * beta;
        var sigma2 = (y - fitted).DotProduct(y - fitted) / df;

        Assert.Equal(fixture.Network.Clinics.Select(c => c.Id).Order(), served.Benchmarks.Select(b => b.Clinic));
        foreach (var benchmark in served.Benchmarks)
        {
            var mine = episodes.Select((e, i) => (e, i)).Where(p => p.e.Clinic == benchmark.Clinic).Select(p => p.i).ToList();
            var observed = mine.Average(i => y[i]);
            var expected = mine.Average(i => fitted[i]);
            var half = StudentT.InvCDF(0, 1, df, 0.975) * Math.Sqrt(sigma2 / mine.Count);
            Assert.Equal(mine.Count, benchmark.N);
            Close(observed, benchmark.Observed, "observed");
            Close(expected, benchmark.Expected, "expected");
            Close(observed - expected - half, benchmark.Lower, "O-E lower");
            Close(observed - expected + half, benchmark.Upper, "O-E upper");
        }
    }

    [Fact]
    public async Task A_filter_and_a_moved_threshold_are_sums_of_other_cells_and_still_exact()
    {
        var query = new StudyQuery { Regions = [ComplaintRegion.LowBack, ComplaintRegion.Neck], ChronicFromWeeks = 26 };
        var served = await Compare(query);
        var episodes = Completed.Where(e => e.Region is ComplaintRegion.LowBack or ComplaintRegion.Neck).ToList();
        var early = episodes.Where(e => e.Weeks < 26 && e.Change is not null).Select(e => (double)e.Change!.Value).ToList();
        Assert.False(served.Suppressed, served.SuppressionReason);
        SameMean(early, served.Early.DurableNprsChange, "early (<26 weeks) durable change");
        Assert.Equal(episodes.Count(e => e.Weeks >= 26), served.Chronic.Patients);
    }
}

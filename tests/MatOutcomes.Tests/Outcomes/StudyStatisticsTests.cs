using System.Net.Http.Json;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Releasing;
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

    /// <summary>Both absent, or both present and equal within the tolerance.</summary>
    private static void Close(double? expected, double? actual, string what)
    {
        if (expected is { } e) Close(e, actual, what);
        else Assert.True(actual is null, $"{what}: expected none, served {actual}");
    }

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
            Assert.Equal(episodes.Count, cohort.Episodes);
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

    /// <summary>IMMPACT's fixed time points: change at discharge (last in-care NPRS) and at follow-up
    /// (last follow-up NPRS, with its window), each over its own episodes.</summary>
    [Fact]
    public async Task Outcomes_at_discharge_and_at_follow_up_are_separate_each_with_its_own_n()
    {
        var served = await Compare(new StudyQuery());
        foreach (var (cohort, episodes) in new[] { (served.Early, Completed.Where(e => e.Weeks < 12).ToList()), (served.Chronic, Completed.Where(e => e.Weeks >= 12).ToList()) })
        {
            var discharged = episodes.Where(e => e.LastInCare is not null).ToList();
            SameMean([.. discharged.Select(e => (double)e.ChangeAtDischarge!.Value)], cohort.AtDischarge.NprsChange, cohort.Cohort + " change at discharge");
            SameProportion(discharged.Count(e => RawEpisode.Improved(e.Baseline, e.LastInCare!.Value, 2, 30)), discharged.Count,
                cohort.AtDischarge.NprsResponders, cohort.Cohort + " responders at discharge");
            Assert.Null(cohort.AtDischarge.WeeksAfterDischarge);

            var followedUp = episodes.Where(e => e.LastFollowUp is not null).ToList();
            Assert.InRange(followedUp.Count, 11, discharged.Count - 1);
            SameMean([.. followedUp.Select(e => (double)e.ChangeAtFollowUp!.Value)], cohort.AtFollowUp.NprsChange, cohort.Cohort + " change at follow-up");
            SameProportion(followedUp.Count(e => RawEpisode.Improved(e.Baseline, e.LastFollowUp!.Value, 2, 30)), followedUp.Count,
                cohort.AtFollowUp.NprsResponders, cohort.Cohort + " responders at follow-up");
            var weeks = followedUp.Select(e => e.FollowUpWeeks!.Value).Order().ToList();
            int NearestRank(double q) => weeks[(int)Math.Ceiling(q * weeks.Count) - 1];
            Assert.Equal(new WeeksWindow(weeks.Count, NearestRank(0.25), NearestRank(0.5), NearestRank(0.75), false), cohort.AtFollowUp.WeeksAfterDischarge);

            // Durable change mixes the two horizons: a follow-up where there is one, else the last in-care score.
            Assert.All(episodes.Where(e => e.Change is not null), e => Assert.Equal(e.ChangeAtFollowUp ?? e.ChangeAtDischarge, e.Change));
        }

        foreach (var (atTimePoint, score) in new (TimePointDifferences, Func<RawEpisode, int?>)[]
                 {
                     (served.AtDischargeDifference, e => e.LastInCare), (served.AtFollowUpDifference, e => e.LastFollowUp),
                 })
        {
            var early = Completed.Where(e => e.Weeks < 12 && score(e) is not null).ToList();
            var chronic = Completed.Where(e => e.Weeks >= 12 && score(e) is not null).ToList();
            var (d, dl, du) = Textbook.Welch([.. early.Select(e => (double)(e.Baseline - score(e)!.Value))], [.. chronic.Select(e => (double)(e.Baseline - score(e)!.Value))]);
            Close(d, atTimePoint.NprsChange.Estimate, "Welch difference at a time point");
            Close(dl, atTimePoint.NprsChange.Lower, "Welch lower at a time point");
            Close(du, atTimePoint.NprsChange.Upper, "Welch upper at a time point");
            bool Responds(RawEpisode e) => RawEpisode.Improved(e.Baseline, score(e)!.Value, 2, 30);
            var (rd, rl, ru) = Textbook.Newcombe(early.Count(Responds), early.Count, chronic.Count(Responds), chronic.Count);
            Close(rd, atTimePoint.NprsResponders.Estimate, "RD at a time point");
            Close(rl, atTimePoint.NprsResponders.Lower, "RD lower at a time point");
            Close(ru, atTimePoint.NprsResponders.Upper, "RD upper at a time point");
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

    /// <summary>Every figure a study's definitions decide follows the definitions it states (none
    /// echoes a parameter back and computes another): Kaplan–Meier and its median at the NPRS rule,
    /// responders at each MCID, the adjusted responder model, the cohorts at the threshold.</summary>
    [Theory]
    [InlineData(2, 30, 8, 10, 12)]
    [InlineData(3, 50, 5, 15, 26)]
    [InlineData(1, 0, 12, 5, 6)]
    [InlineData(4, 10, 8, 10, 52)]
    public async Task Every_figure_follows_the_researchers_definitions_as_a_per_episode_loop_does(
        int points, double percent, int ndiMcid, int odiMcid, int chronicFromWeeks)
    {
        var served = await Compare(new StudyQuery
        {
            NprsMcidPoints = points, NprsMcidPercent = percent, NdiMcid = ndiMcid, OdiMcid = odiMcid, ChronicFromWeeks = chronicFromWeeks,
        });
        foreach (var (cohort, episodes) in new[]
                 {
                     (served.Early, Completed.Where(e => e.Weeks < chronicFromWeeks).ToList()),
                     (served.Chronic, Completed.Where(e => e.Weeks >= chronicFromWeeks).ToList()),
                 })
        {
            Assert.Equal(episodes.Count, cohort.Episodes);
            var scored = episodes.Where(e => e.Change is not null).ToList();
            SameProportion(scored.Count(e => e.Responds(points, percent)), scored.Count, cohort.NprsResponders, cohort.Cohort + " responders");
            SameProportion(episodes.Count(e => e.NdiChange >= ndiMcid), episodes.Count(e => e.NdiChange is not null), cohort.NdiResponders, cohort.Cohort + " NDI responders");
            SameProportion(episodes.Count(e => e.OdiChange >= odiMcid), episodes.Count(e => e.OdiChange is not null), cohort.OdiResponders, cohort.Cohort + " ODI responders");

            var people = episodes.Select(e => (Time: e.SessionsTo(points, percent) ?? e.Sessions, Event: e.SessionsTo(points, percent) is not null)).ToList();
            var km = cohort.SessionsToMcid;
            Assert.Equal(people.Count(p => p.Event), km.Events);
            var expected = Textbook.KaplanMeier(people).TakeWhile(p => p.AtRisk >= 11).ToList();
            Assert.Equal(expected.Select(p => (p.Time, (long)p.AtRisk)), km.Curve.Select(p => (p.Sessions, p.AtRisk)));
            foreach (var (point, servedPoint) in expected.Zip(km.Curve))
            {
                Close(point.Survival, servedPoint.Survival, $"{cohort.Cohort} S({point.Time})");
                Close(point.Lower, servedPoint.Lower, $"{cohort.Cohort} lower({point.Time})");
                Close(point.Upper, servedPoint.Upper, $"{cohort.Cohort} upper({point.Time})");
            }
            Assert.Equal(expected.Where(p => p.Survival <= 0.5).Select(p => (int?)p.Time).FirstOrDefault(), km.MedianSessionsStep);
            Close(Textbook.Interpolated([.. expected.Select(p => (p.Time, p.Survival))]), km.MedianSessions, cohort.Cohort + " median");
            Close(Textbook.Interpolated([.. expected.Select(p => (p.Time, p.Lower))]), km.MedianLower, cohort.Cohort + " median lower");
            Close(Textbook.Interpolated([.. expected.Select(p => (p.Time, p.Upper))]), km.MedianUpper, cohort.Cohort + " median upper");
        }

        // Acute and subacute are fixed bands (under 6, 6 to 11 weeks), whatever the threshold.
        Assert.Equal(Completed.Count(e => e.Weeks < 6), served.Acute.Episodes);
        Assert.Equal(Completed.Count(e => e.Weeks is >= 6 and < 12), served.Subacute.Episodes);

        var rows = Completed.Where(e => e.Change is not null).ToList();
        var (x, early) = Design(rows, chronicFromWeeks);
        var (beta, se, _) = Textbook.Ols(x, Vector<double>.Build.DenseOfEnumerable(rows.Select(e => e.Responds(points, percent) ? 1.0 : 0)));
        Close(beta[early], served.AdjustedResponderDifference.Estimate, "adjusted responder difference");
        Close(se[early], served.AdjustedResponderDifference.Classical.StandardError, "adjusted responder SE");
    }

    private static readonly ComplaintRegion[] Regions = Enum.GetValues<ComplaintRegion>();
    private static readonly AgeBand[] Ages = Enum.GetValues<AgeBand>();
    private static readonly Sex[] Sexes = Enum.GetValues<Sex>();
    private static readonly OccupationGroup[] Occupations = Enum.GetValues<OccupationGroup>();

    /// <summary>One design row per patient: intercept, early, dummies (first level as reference), baseline.</summary>
    private static (Matrix<double> X, int EarlyColumn) Design(IReadOnlyList<RawEpisode> episodes, int chronicFromWeeks = 12)
    {
        var rows = episodes.Select(e => new[] { 1.0, e.Weeks < chronicFromWeeks ? 1 : 0 }
            .Concat(Regions.Skip(1).Select(r => e.Region == r ? 1.0 : 0))
            .Concat(Ages.Skip(1).Select(a => e.Age == a ? 1.0 : 0))
            .Concat(Sexes.Skip(1).Select(s => e.Sex == s ? 1.0 : 0))
            .Concat(Occupations.Skip(1).Select(o => e.Occupation == o ? 1.0 : 0))
            .Append(e.Baseline).ToArray()).ToList();
        var used = Enumerable.Range(0, rows[0].Length).Where(c => rows.Any(r => r[c] != 0)).ToArray();
        return (Matrix<double>.Build.DenseOfRows(rows.Select(r => used.Select(c => r[c]))), Array.IndexOf(used, 1));
    }

    [Fact]
    public async Task The_risk_adjusted_difference_equals_least_squares_over_individual_episodes_with_classical_and_cr2_intervals()
    {
        var served = await Compare(new StudyQuery());
        var episodes = Completed.Where(e => e.Change is not null).ToList();
        var (x, early) = Design(episodes);
        var clinics = episodes.Select(e => e.Clinic).ToList();
        var g = clinics.Distinct().Count();
        Assert.Equal(4, g);

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
            Close(se[early], estimate.Classical.StandardError, "adjusted SE");
            Close(beta[early] - half, estimate.Classical.Lower, "adjusted lower");
            Close(beta[early] + half, estimate.Classical.Upper, "adjusted upper");
            Assert.Equal(df, estimate.Classical.DegreesOfFreedom);

            var robustSe = Math.Sqrt(Textbook.Cr2(x, y, clinics)[early, early]);
            var robustHalf = StudentT.InvCDF(0, 1, g - 1, 0.975) * robustSe;
            Close(robustSe, estimate.ClusterRobust.StandardError, "CR2 SE");
            Close(beta[early] - robustHalf, estimate.ClusterRobust.Lower, "CR2 lower");
            Close(beta[early] + robustHalf, estimate.ClusterRobust.Upper, "CR2 upper");
            Assert.Equal((g - 1.0, g), (estimate.ClusterRobust.DegreesOfFreedom, estimate.ClusterRobust.Clusters));

            // The headline is the cluster-robust interval: the study spans four clinics.
            Assert.Equal(InferenceKind.ClusterRobust, estimate.Inference);
            Assert.Equal((estimate.ClusterRobust.StandardError, estimate.ClusterRobust.Lower, estimate.ClusterRobust.Upper),
                (estimate.StandardError, estimate.Lower, estimate.Upper));
        }
    }

    /// <summary>IPTW served from the cells equals an independent fit on individual episodes: a logistic
    /// regression by IRLS-as-weighted-least-squares on rows, Hájek means, and the M-estimation sandwich
    /// with a numerically differentiated bread.</summary>
    [Fact]
    public async Task Propensity_weighting_equals_an_independent_fit_on_individual_episodes()
    {
        var served = (await Compare(new StudyQuery())).PropensityWeighted;
        var rows = Completed.Where(e => e.Change is not null).ToList();
        var early = rows.Select(e => e.Weeks < 12).ToList();
        var clinics = rows.Select(e => e.Clinic).ToList();

        // Intercept; per covariate, a dummy for every level present in both cohorts but the first of them; baseline NPRS.
        var levels = new List<Func<RawEpisode, bool>>();
        void Dummies<T>(Func<RawEpisode, T> of) where T : struct, Enum
        {
            foreach (var level in Enum.GetValues<T>()
                         .Where(level => rows.Any(e => e.Weeks < 12 && of(e).Equals(level)) && rows.Any(e => e.Weeks >= 12 && of(e).Equals(level))).Skip(1))
                levels.Add(e => of(e).Equals(level));
        }
        Dummies(e => e.Region);
        Dummies(e => e.Age);
        Dummies(e => e.Sex);
        Dummies(e => e.Occupation);
        var x = Matrix<double>.Build.DenseOfRows(rows.Select(e => new[] { 1.0 }.Concat(levels.Select(l => l(e) ? 1.0 : 0)).Append(e.Baseline)));

        Assert.False(served.Suppressed);
        Assert.True(served.Converged);
        Assert.Equal((rows.Count, x.ColumnCount), (served.N, served.Parameters));
        Vector<double> propensity = null!;
        foreach (var (outcome, estimate) in new (Func<RawEpisode, double>, AdjustedEstimate)[]
                 {
                     (e => e.Change!.Value, served.DurableChange), (e => e.Responds() ? 1 : 0, served.Responders),
                 })
        {
            var (difference, independentSe, clusterSe, e) = Textbook.Iptw(x, early, [.. rows.Select(outcome)], clinics);
            propensity = e;
            Close(difference, estimate.Estimate, "IPTW difference");
            Assert.True(Math.Abs(independentSe / estimate.Classical.StandardError!.Value - 1) < 1e-6, $"independent SE {independentSe} vs {estimate.Classical.StandardError}");
            Assert.True(Math.Abs(clusterSe / estimate.ClusterRobust.StandardError!.Value - 1) < 1e-6, $"clustered SE {clusterSe} vs {estimate.ClusterRobust.StandardError}");
            Assert.Equal((InferenceKind.ClusterRobust, 4, 3.0), (estimate.Inference!.Value, estimate.ClusterRobust.Clusters!.Value, estimate.ClusterRobust.DegreesOfFreedom!.Value));
            Assert.Equal(estimate.ClusterRobust.Lower, estimate.Lower);
        }

        // Stabilised weights: P(cohort) / propensity of the episode's own cohort.
        var pEarly = (double)early.Count(t => t) / rows.Count;
        foreach (var (summary, cohort) in new[] { (served.Early, true), (served.Chronic, false) })
        {
            var weights = Enumerable.Range(0, rows.Count).Where(i => early[i] == cohort)
                .Select(i => cohort ? pEarly / propensity[i] : (1 - pEarly) / (1 - propensity[i])).ToList();
            Close(weights.Average(), summary.MeanWeight, "mean stabilised weight");
            Close(Math.Pow(weights.Sum(), 2) / weights.Sum(w => w * w), summary.EffectiveEpisodes, "effective episodes");
        }

        // Balance: SMDs before and after weighting over the unweighted pooled SD (divisor n).
        foreach (var row in served.Balance)
        {
            Func<RawEpisode, double> z = (row.Covariate, row.Level) switch
            {
                ("region", var l) => e => ProtocolJson.WireName(e.Region) == l ? 1 : 0,
                ("ageBand", var l) => e => ProtocolJson.WireName(e.Age) == l ? 1 : 0,
                ("sex", var l) => e => ProtocolJson.WireName(Pooling.GroupOf(e.Sex)) == l ? 1 : 0,
                ("occupation", var l) => e => ProtocolJson.WireName(e.Occupation) == l ? 1 : 0,
                _ => e => e.Baseline,
            };
            var earlyCount = rows.Where(e => e.Weeks < 12).Sum(z);
            var chronicCount = rows.Where(e => e.Weeks >= 12).Sum(z);
            // A covariate's balance is shown only where the release publishes its counts: every
            // (level, weeks-of-pain band) atom of its episodes holds 0 or at least k.
            Func<RawEpisode, string>? levelOf = row.Covariate switch
            {
                "region" => e => ProtocolJson.WireName(e.Region),
                "ageBand" => e => ProtocolJson.WireName(e.Age),
                "sex" => e => ProtocolJson.WireName(Pooling.GroupOf(e.Sex)),
                "occupation" => e => ProtocolJson.WireName(e.Occupation),
                _ => null,
            };
            var unpublished = levelOf is not null && rows
                .GroupBy(e => (levelOf(e), Band: e.Weeks switch { < 6 => 0, < 12 => 1, < 26 => 2, < 52 => 3, _ => 4 }))
                .Any(atom => atom.Count() < 11);
            if (unpublished || (row.Covariate != "baselineNprs" && (earlyCount is > 0 and < 11 || chronicCount is > 0 and < 11)))
            {
                Assert.True(row.Suppressed && row.SmdBefore is null && row.SmdAfter is null, $"{row.Covariate} {row.Level} should be withheld");
                continue;
            }
            double Mean(bool cohort, bool weighted)
            {
                var members = Enumerable.Range(0, rows.Count).Where(i => early[i] == cohort).ToList();
                var w = members.Select(i => weighted ? (cohort ? 1 / propensity[i] : 1 / (1 - propensity[i])) : 1).ToList();
                return members.Select((i, j) => w[j] * z(rows[i])).Sum() / w.Sum();
            }
            double Variance(bool cohort)
            {
                var values = rows.Where((_, i) => early[i] == cohort).Select(z).ToList();
                return values.Select(v => v * v).Average() - Math.Pow(values.Average(), 2);
            }
            var pooled = Math.Sqrt((Variance(true) + Variance(false)) / 2);
            Close((Mean(true, false) - Mean(false, false)) / pooled, row.SmdBefore, $"{row.Covariate} {row.Level} SMD before");
            Close((Mean(true, true) - Mean(false, true)) / pooled, row.SmdAfter, $"{row.Covariate} {row.Level} SMD after");
        }
        Assert.Contains(served.Balance, r => r.Covariate == "baselineNprs" && !r.Suppressed);
        Assert.True(served.Balance.Count(r => !r.Suppressed) >= 5, $"{served.Balance.Count(r => !r.Suppressed)} balance rows shown");
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
        Assert.Equal(episodes.Count(e => e.Weeks >= 26), served.Chronic.Episodes);
    }

    /// <summary>A study that restricts only the period or the session format takes its outcomes by
    /// band from the release's quarter × format × completion × duration roll-up, the smallest table
    /// that keeps what it needs: every band still equals the per-episode loop over its episodes.</summary>
    [Fact]
    public async Task A_study_by_period_or_by_session_format_is_exact_from_the_band_roll_up()
    {
        var quarters = Completed.Select(e => Quarter(e.StartMonth)).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(quarters.Count >= 2, "the network spans at least two closed quarters");
        var (from, to) = (quarters[0], quarters[quarters.Count / 2]);
        var byPeriod = new StudyQuery { FromMonth = $"{from[..4]}-{(from[5] - '1') * 3 + 1:00}", ToMonth = $"{to[..4]}-{(to[5] - '1') * 3 + 3:00}" };
        SameBands(await Compare(byPeriod), Completed.Where(e => string.CompareOrdinal(Quarter(e.StartMonth), from) >= 0 && string.CompareOrdinal(Quarter(e.StartMonth), to) <= 0).ToList());

        var byFormat = new StudyQuery { Formats = [Platform.Outcomes.Projecting.FormatClass.StandaloneMat] };
        SameBands(await Compare(byFormat), Completed.Where(e => e.Format == Platform.Outcomes.Projecting.FormatClass.StandaloneMat).ToList());

        static string Quarter(string month) => Platform.Outcomes.Projecting.Quarters.OfMonth(month);

        static void SameBands(CohortComparison served, IReadOnlyList<RawEpisode> episodes)
        {
            Assert.Equal(episodes.Count(e => e.Weeks < 12), served.Early.Episodes);
            Assert.Equal(episodes.Count(e => e.Weeks >= 12), served.Chronic.Episodes);
            Assert.Equal(episodes.Count(e => e.Weeks < 6), served.Acute.Episodes);
            Assert.Equal(episodes.Count(e => e.Weeks is >= 6 and < 12), served.Subacute.Episodes);
            SameMean([.. episodes.Where(e => e.Weeks < 12 && e.Change is not null).Select(e => (double)e.Change!.Value)], served.Early.DurableNprsChange, "early durable change");
            SameMean([.. episodes.Where(e => e.Weeks >= 12 && e.Change is not null).Select(e => (double)e.Change!.Value)], served.Chronic.DurableNprsChange, "chronic durable change");
            SameMean([.. episodes.Where(e => e.Weeks < 12 && e.MeanRelief is not null).Select(e => e.MeanRelief!.Value)], served.Early.ImmediateRelief, "early immediate relief");
        }
    }
}

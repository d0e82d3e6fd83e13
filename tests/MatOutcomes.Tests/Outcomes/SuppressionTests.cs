using System.Net.Http.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;
using ReleaseDisclosure = MatOutcomes.Platform.Outcomes.Releasing.Disclosure;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Outcomes;

public class SuppressionTests
{
    private const int K = 11;

    /// <summary>Cells for a network: (clinic, sex, weeks of pain, patients).</summary>
    private static CubeSnapshot Network(params (string Clinic, Sex Sex, int Weeks, int Patients)[] groups)
    {
        var contributions = new List<Contribution>();
        var i = 0;
        foreach (var (clinic, sex, weeks, patients) in groups)
            for (var p = 0; p < patients; p++, i++)
            {
                var key = new CellKey(clinic, "2026Q1", FormatClass.StandaloneMat, true, PainDurations.Of(weeks), ComplaintRegion.LowBack,
                    OccupationGroup.DeskStressful, AgeBand.From40To49, sex);
                var baseline = 5 + i % 4;
                var latest = Math.Max(0, baseline - i % 5);
                contributions.Add(new Contribution(key, baseline, latest, latest, null, null, 1.5 + i % 3, null, null, 5,
                    Cubes.NeverReached(baseline), false, false));
            }
        return Cubes.Of(contributions);
    }

    [Theory]
    [InlineData(K - 1, true)]
    [InlineData(K, false)]
    [InlineData(K + 1, false)]
    public void A_cohort_of_k_minus_1_is_withheld_and_one_of_k_or_more_is_shown(int earlyPatients, bool suppressed)
    {
        var cells = Network(("clinic-01", Sex.Female, 2, earlyPatients), ("clinic-01", Sex.Female, 20, 40));

        var result = StudyCalculator.Compare(cells, new StudyQuery(), K);

        Assert.Equal(suppressed, result.Early.Suppressed);
        Assert.Equal(suppressed, result.Early.DurableNprsChange.Suppressed);
        Assert.Equal(suppressed, result.Early.DurableNprsChange.Mean is null);
        Assert.Equal(suppressed, result.Early.NprsResponders.Proportion is null);
        Assert.Equal(suppressed, result.Early.SessionsToMcid.Curve.Count == 0);
        Assert.Equal(suppressed, result.DurableChangeDifference.Estimate is null);
        // A group under k is also an atom under k: the whole study is withheld, since the
        // network-wide figures would otherwise give it away by subtraction.
        Assert.Equal(suppressed, result.Suppressed);
        Assert.Equal(suppressed, result.Chronic.DurableNprsChange.Mean is null);
        // The fixed time points, the cluster-robust interval and the weighted comparison go with it.
        Assert.Equal(suppressed, result.Early.AtDischarge.NprsChange.Mean is null);
        Assert.Equal(suppressed, result.Chronic.AtDischarge.NprsChange.N is null);
        Assert.Equal(suppressed, result.AtDischargeDifference.NprsChange.Estimate is null);
        Assert.Equal(suppressed, result.AdjustedDurableChangeDifference.Classical.StandardError is null);
        Assert.Equal(suppressed, result.AdjustedDurableChangeDifference.ClusterRobust.Clusters is null);
        Assert.Equal(suppressed, result.PropensityWeighted.Suppressed);
        Assert.Equal(suppressed, result.PropensityWeighted.DurableChange.Estimate is null);
        Assert.Equal(suppressed, result.PropensityWeighted.Balance.Count == 0);
        Assert.Equal(suppressed, result.PropensityWeighted.Early.EffectiveEpisodes is null);
    }

    [Fact]
    public void A_follow_up_figure_over_fewer_than_k_followed_up_episodes_is_withheld_while_the_rest_is_shown()
    {
        var contributions = new List<Contribution>();
        for (var i = 0; i < 60; i++)
        {
            var key = new CellKey("clinic-01", "2026Q1", FormatClass.StandaloneMat, true, PainDurations.Of(i % 2 == 0 ? 3 : 20),
                ComplaintRegion.LowBack, OccupationGroup.DeskStressful, AgeBand.From40To49, Sex.Female);
            // Ten early and ten chronic episodes have a follow-up.
            var followUp = i < 20 ? (int?)3 : null;
            contributions.Add(new Contribution(key, 7, followUp ?? 4, 4, followUp, followUp is null ? null : 6, null, null, null, 5,
                Cubes.NeverReached(7), followUp is not null, false));
        }

        var result = StudyCalculator.Compare(Cubes.Of(contributions), new StudyQuery(), K);

        Assert.False(result.Suppressed);
        Assert.Equal(30, result.Early.AtDischarge.NprsChange.N);
        Assert.True(result.Early.AtFollowUp.NprsChange.Suppressed);
        Assert.Null(result.Early.AtFollowUp.NprsChange.N);
        Assert.True(result.Early.AtFollowUp.WeeksAfterDischarge!.Suppressed);
        Assert.Null(result.Early.AtFollowUp.WeeksAfterDischarge.Median);
        Assert.Null(result.AtFollowUpDifference.NprsChange.Estimate);
    }

    [Fact]
    public async Task A_covariate_level_with_fewer_than_k_episodes_in_a_cohort_gets_no_balance_figures()
    {
        // 120 low-back episodes, early and chronic, and 3 chronic ones with mixed-region pain;
        // region and sex both published at the study's grid (each level holds 0 or k+ per cohort).
        var contributions = Enumerable.Range(0, 123).Select(i =>
        {
            var region = i < 120 ? ComplaintRegion.LowBack : ComplaintRegion.Mixed;
            var key = new CellKey("clinic-01", "2026Q1", FormatClass.StandaloneMat, true, PainDurations.Of(i % 2 == 0 && i < 120 ? 3 : 20), region,
                OccupationGroup.DeskStressful, AgeBand.From40To49, i % 3 == 0 ? Sex.Male : Sex.Female);
            var baseline = 5 + i % 4;
            var latest = Math.Max(0, baseline - i % 5);
            return new Contribution(key, baseline, latest, latest, null, null, 1.5, null, null, 5, Cubes.NeverReached(baseline), false, false);
        }).ToList();
        var cube = Cubes.Of(contributions);
        var disclosure = await ReleaseDisclosure.DecideAsync(1, cube, null, _ => throw new InvalidOperationException(), K);
        // The release withholds counts by region (3 mixed-region episodes), so the balance by region
        // is withheld too, level by level: but the figures of one level are also judged on their own.
        Assert.False(disclosure.Allows(Dimension.Region, Measure.Latest));

        var weighted = StudyCalculator.Compare(cube, disclosure, new StudyQuery(), K).PropensityWeighted;
        var balance = weighted.Balance;

        Assert.All(balance.Where(r => r.Covariate == "region"), r => Assert.True(r is { Suppressed: true, SmdBefore: null, SmdAfter: null }));
        // Every region is listed withheld, held or not: which regions a study holds is from the data.
        Assert.Equal(Enum.GetValues<ComplaintRegion>().Length, balance.Count(r => r.Covariate == "region"));
        Assert.Contains(balance, r => r is { Covariate: "sex", Level: "male", Suppressed: false, SmdBefore: not null });
        // The first region present (low back) is the reference once neck is absent and mixed is all chronic.
        Assert.True(weighted.Converged);
        Assert.Equal(3, weighted.Parameters);
        // Pooled sexes get no row of their own.
        Assert.DoesNotContain(balance, r => r.Covariate == "sex" && r.Level is "other" or "not-stated");

        // Had the release published counts by region, the thin level would still be withheld on its own.
        var everyGrid = new ReleaseDisclosure();
        Array.Fill(everyGrid.Safe, -1);
        var byRegion = StudyCalculator.Compare(cube, everyGrid, new StudyQuery(), K).PropensityWeighted.Balance;
        var mixed = Assert.Single(byRegion, r => r.Covariate == "region" && r.Level == "mixed");
        Assert.True(mixed is { Suppressed: true, SmdBefore: null, SmdAfter: null });
        Assert.Contains(byRegion, r => r is { Covariate: "region", Level: "low-back", Suppressed: false, SmdBefore: not null });
        Assert.DoesNotContain(byRegion, r => r.Covariate == "region" && r.Level == "neck");
    }

    [Fact]
    public void Excluding_one_small_clinic_is_refused_so_two_totals_cannot_be_subtracted_to_reveal_it()
    {
        var cells = Network(("clinic-01", Sex.Female, 3, 30), ("clinic-01", Sex.Female, 20, 30),
            ("clinic-02", Sex.Female, 3, 30), ("clinic-02", Sex.Female, 20, 30), ("clinic-03", Sex.Female, 20, 3));

        var everyone = StudyCalculator.Compare(cells, new StudyQuery(), K);
        var allButSmall = StudyCalculator.Compare(cells, new StudyQuery { Clinics = ["clinic-01", "clinic-02"] }, K);

        Assert.False(everyone.Suppressed);
        Assert.NotNull(everyone.Chronic.DurableNprsChange.Mean);
        Assert.True(allButSmall.Suppressed);
        Assert.Equal(StudyCalculator.UnsafeQuery, allButSmall.SuppressionReason);
        Assert.Null(allButSmall.Chronic.DurableNprsChange.Mean);
        Assert.Null(allButSmall.Early.DurableNprsChange.Mean);
        Assert.Null(allButSmall.AdjustedDurableChangeDifference.Estimate);
        Assert.All(allButSmall.Benchmarks, b => Assert.True(b.Suppressed));
    }

    [Fact]
    public void A_rare_sex_value_is_pooled_with_male_so_a_study_of_women_is_answered_and_a_study_of_men_says_what_it_covers()
    {
        var cells = Network(("clinic-01", Sex.Female, 3, 30), ("clinic-01", Sex.Male, 3, 30), ("clinic-01", Sex.Female, 20, 30),
            ("clinic-01", Sex.Male, 20, 30), ("clinic-01", Sex.Other, 20, 2));

        var women = StudyCalculator.Compare(cells, new StudyQuery { Sexes = [Sex.Female] }, K);
        Assert.False(women.Suppressed);
        Assert.Equal(30, women.Chronic.Episodes);
        // "Everyone but women" is men with the two of other sex: 32, never the two alone.
        var men = StudyCalculator.Compare(cells, new StudyQuery { Sexes = [Sex.Male] }, K);
        Assert.Equal(32, men.Chronic.Episodes);
        Assert.Equal(32, StudyCalculator.Compare(cells, new StudyQuery { Sexes = [Sex.Other] }, K).Chronic.Episodes);
        Assert.Equal([Sex.Male, Sex.Other, Sex.NotStated], new StudyQuery { Sexes = [Sex.Other] }.Effective.Sexes!);
    }

    [Fact]
    public void Restricting_a_dimension_is_refused_while_a_rare_value_would_be_left_over()
    {
        var cells = Network(("clinic-01", Sex.Female, 3, 30), ("clinic-01", Sex.Female, 20, 30), ("clinic-02", Sex.Female, 20, 3));

        Assert.False(StudyCalculator.Compare(cells, new StudyQuery(), K).Suppressed);
        Assert.True(StudyCalculator.Compare(cells, new StudyQuery { Clinics = ["clinic-01"] }, K).Suppressed);
    }

    [Fact]
    public void Moving_the_chronic_threshold_cannot_isolate_a_small_duration_band()
    {
        // 5 patients with 26–51 weeks of pain: the difference between thresholds 26 and 52.
        var cells = Network(("clinic-01", Sex.Female, 3, 40), ("clinic-01", Sex.Female, 14, 40), ("clinic-01", Sex.Female, 30, 5),
            ("clinic-01", Sex.Female, 60, 40));

        Assert.True(StudyCalculator.Compare(cells, new StudyQuery { ChronicFromWeeks = 26 }, K).Suppressed);
        Assert.True(StudyCalculator.Compare(cells, new StudyQuery { ChronicFromWeeks = 52 }, K).Suppressed);
    }

    [Fact]
    public void Benchmarks_leave_out_a_small_clinic_and_as_many_others_as_keep_the_rest_at_least_k()
    {
        var cells = Network(("clinic-01", Sex.Female, 3, 30), ("clinic-01", Sex.Female, 20, 30), ("clinic-02", Sex.Female, 3, 30),
            ("clinic-02", Sex.Female, 20, 30), ("clinic-03", Sex.Female, 3, 12), ("clinic-03", Sex.Female, 20, 12));
        var result = StudyCalculator.Compare(cells, new StudyQuery(), K);
        Assert.All(result.Benchmarks, b => Assert.False(b.Suppressed));

        var small = Network(("clinic-01", Sex.Female, 3, 30), ("clinic-01", Sex.Female, 20, 30), ("clinic-02", Sex.Female, 3, 30),
            ("clinic-02", Sex.Female, 20, 30), ("clinic-03", Sex.Female, 3, 5), ("clinic-03", Sex.Female, 20, 5));
        // A small clinic no longer withdraws every benchmark: it is left out, with the smallest other
        // clinic beside it while together they are fewer than k (the network total minus the shown
        // clinics must not be a small group), and it is never named.
        var shown = StudyCalculator.Compare(small, new StudyQuery(), K).Benchmarks;
        Assert.Single(shown);
        Assert.DoesNotContain(shown, b => b.Clinic == "clinic-03");
        Assert.All(shown, b => Assert.False(b.Suppressed));
    }
}

/// <summary>The same rule through HTTP on the simulator's data: a rare group comes back withheld,
/// with no number in the body.</summary>
public class SuppressionOverHttpTests(NetworkFixture fixture) : IClassFixture<NetworkFixture>
{
    [Fact]
    public async Task A_study_of_a_rare_group_comes_back_suppressed_with_no_numbers()
    {
        using var client = fixture.Client(fixture.Token(Roles.Researcher));
        var response = await client.PostAsJsonAsync("/api/studies/cohort-comparison",
            new StudyQuery { Sexes = [Sex.Other], Clinics = ["clinic-01"] }, ProtocolJson.Options);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.IsSuccessStatusCode, body);
        var result = System.Text.Json.JsonSerializer.Deserialize<CohortComparison>(body, ProtocolJson.Options)!;
        Assert.True(result.Suppressed);
        Assert.DoesNotContain("\"mean\"", body);
        Assert.DoesNotContain("\"proportion\"", body);
        Assert.DoesNotContain("\"observed\"", body);
        // Counts under k are small cells too: none behind a withheld figure.
        Assert.DoesNotContain("\"patients\"", body);
        Assert.DoesNotContain("\"n\":", body);
        Assert.DoesNotContain("\"count\"", body);
    }

    [Fact]
    public async Task A_bad_study_query_is_refused_by_field_and_a_clinic_token_may_not_run_studies()
    {
        using var researcher = fixture.Client(fixture.Token(Roles.Researcher));
        using var clinic = fixture.Client(fixture.ClinicToken("clinic-01"));

        var bad = await researcher.PostAsync("/api/studies/cohort-comparison",
            PlatformFixture.Json("{\"chronicFromWeeks\": 13, \"fromMonth\": \"2026-02\", \"regions\": [\"shoulder\"]}"));
        var badBody = await bad.Content.ReadAsStringAsync();
        var valid = await researcher.PostAsync("/api/studies/cohort-comparison", PlatformFixture.Json("{\"chronicFromWeeks\": 13, \"fromMonth\": \"2026-02\"}"));
        var validBody = await valid.Content.ReadAsStringAsync();
        var forbidden = await clinic.PostAsync("/api/studies/cohort-comparison", PlatformFixture.Json("{}"));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("regions", badBody);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, valid.StatusCode);
        Assert.Contains("\"field\":\"chronicFromWeeks\"", validBody);
        Assert.Contains("\"field\":\"fromMonth\",\"rule\":\"quarter\"", validBody);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, forbidden.StatusCode);
    }
}

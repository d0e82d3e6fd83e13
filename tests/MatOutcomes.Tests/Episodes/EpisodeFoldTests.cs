using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Episodes;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Episodes;

public class EpisodeFoldTests
{
    private static Episode Fold(params object[] events)
    {
        Episode? episode = null;
        var position = 0;
        foreach (var e in events) episode = Episode.Fold(episode, Guid.Empty, Guid.NewGuid(), ++position, e);
        return episode!;
    }

    [Theory]
    [InlineData(0, Cohort.Acute)]
    [InlineData(5, Cohort.Acute)]
    [InlineData(6, Cohort.Subacute)]
    [InlineData(11, Cohort.Subacute)]
    [InlineData(12, Cohort.Chronic)]
    [InlineData(400, Cohort.Chronic)]
    public void Pain_duration_at_opening_sets_the_cohort_at_the_6_and_12_week_thresholds(int weeks, Cohort cohort) =>
        Assert.Equal(cohort, Fold(Sample.Opened(weeks: weeks)).Cohort);

    [Fact]
    public void An_onset_date_gives_whole_weeks_of_pain_at_opening()
    {
        var opened = Sample.Opened() with { PainDurationWeeks = null, PainOnsetDate = Sample.Start.AddDays(-83) };
        Assert.Equal(11, Fold(opened).Intake.PainDurationWeeks);
        Assert.Equal(12, Fold(opened with { PainOnsetDate = Sample.Start.AddDays(-84) }).Intake.PainDurationWeeks);
    }

    [Fact]
    public void The_latest_nprs_is_the_most_recent_of_pre_session_scores_outcomes_and_follow_ups()
    {
        var episode = Fold(Sample.Opened(baselineNprs: 8), Sample.Session(1, 8, 5), Sample.Session(8, 6, 3),
            new OutcomeMeasured(Sample.Start.AddDays(9), Instrument.Nprs, 4), Sample.Discharged(10),
            new FollowUpRecorded(Sample.Start.AddDays(52), 6, 5));

        Assert.Equal(5, episode.LatestNprs);
        Assert.Equal(3, episode.DurableNprsChange);
        Assert.Equal(3, episode.MeanImmediateRelief);
        Assert.Equal(EpisodeStatus.Discharged, episode.Status);
    }

    [Fact]
    public void A_voided_session_no_longer_counts_and_its_re_recording_does()
    {
        Episode? episode = null;
        var wrong = Guid.NewGuid();
        episode = Episode.Fold(episode, Guid.Empty, Guid.NewGuid(), 1, Sample.Opened(baselineNprs: 7));
        episode = Episode.Fold(episode, Guid.Empty, wrong, 2, Sample.Session(1, 9, 1));
        episode = Episode.Fold(episode, Guid.Empty, Guid.NewGuid(), 3, new EntryVoided(wrong, VoidReason.EnteredInError));
        episode = Episode.Fold(episode, Guid.Empty, Guid.NewGuid(), 4, Sample.Session(1, 7, 5));

        Assert.Equal(1, episode!.SessionCount);
        Assert.Equal(2, episode.MeanImmediateRelief);
        Assert.Equal(7, episode.LatestNprs);
        Assert.Equal([wrong], episode.VoidedEventIds);
        Assert.Equal(4, episode.Version);
    }

    [Fact]
    public void A_corrected_opening_replaces_the_baseline_and_cohort()
    {
        var episode = Fold(Sample.Opened(baselineNprs: 7, weeks: 30),
            new EpisodeOpeningCorrected(Sample.Start, ComplaintRegion.Neck, null, 4, OccupationGroup.DeskStressful,
                AgeBand.From40To49, Sex.Female, 6, 22, null));

        Assert.Equal((Cohort.Acute, 6, ComplaintRegion.Neck), (episode.Cohort, episode.Intake.BaselineNprs, episode.Intake.Region));
        Assert.Equal(Sample.Patient("0001"), episode.PatientPseudonym);
    }

    [Fact]
    public void An_episode_discharged_as_entered_in_error_is_marked_so() =>
        Assert.Equal(EpisodeStatus.EnteredInError, Fold(Sample.Opened(), new EpisodeDischarged(Sample.Start, DischargeReason.EnteredInError)).Status);
}

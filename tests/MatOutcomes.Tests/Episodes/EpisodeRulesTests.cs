using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Episodes;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Episodes;

/// <summary>Given the episode's events, when a new event arrives, then these rules are broken
/// (none means it is appended).</summary>
public class EpisodeRulesTests
{
    private static readonly Guid EpisodeId = Guid.NewGuid();

    private sealed record Given(Episode? Episode, IReadOnlyList<Guid> EventIds);

    private static Given GivenEvents(params object[] events)
    {
        Episode? episode = null;
        var ids = new List<Guid>();
        foreach (var e in events)
        {
            ids.Add(Guid.NewGuid());
            episode = Episode.Fold(episode, EpisodeId, ids[^1], ids.Count, e);
        }
        return new(episode, ids);
    }

    private static List<string> When(Given given, object @event) =>
        EpisodeRules.Check(given.Episode, @event, "e").Select(x => x.Rule).ToList();

    [Fact]
    public void Given_no_events_When_a_session_arrives_Then_the_episode_must_open_first() =>
        Assert.Equal(["first-event"], When(GivenEvents(), Sample.Session()));

    [Fact]
    public void Given_no_events_When_the_episode_opens_Then_it_is_accepted() =>
        Assert.Empty(When(GivenEvents(), Sample.Opened()));

    [Fact]
    public void Given_an_open_episode_When_it_opens_again_Then_it_is_refused() =>
        Assert.Equal(["already-opened"], When(GivenEvents(Sample.Opened()), Sample.Opened()));

    [Fact]
    public void Given_an_open_episode_When_a_session_predates_the_opening_Then_it_is_refused() =>
        Assert.Equal(["not-before-opening"], When(GivenEvents(Sample.Opened()), Sample.Session(day: -1)));

    [Fact]
    public void Given_a_discharged_episode_When_a_session_arrives_Then_it_is_refused() =>
        Assert.Equal(["episode-discharged"], When(GivenEvents(Sample.Opened(), Sample.Discharged(10)), Sample.Session(11)));

    [Fact]
    public void Given_a_discharge_that_was_voided_When_a_session_arrives_Then_it_is_accepted()
    {
        var discharged = GivenEvents(Sample.Opened(), Sample.Discharged(10));
        var reopened = Episode.Fold(discharged.Episode, EpisodeId, Guid.NewGuid(), 3,
            new EntryVoided(discharged.EventIds[1], VoidReason.EnteredInError));

        Assert.Empty(EpisodeRules.Check(reopened, Sample.Session(11), "e"));
    }

    [Fact]
    public void Given_sessions_When_discharge_predates_the_last_session_Then_it_is_refused() =>
        Assert.Equal(["not-before-last-session"], When(GivenEvents(Sample.Opened(), Sample.Session(20)), Sample.Discharged(19)));

    [Fact]
    public void Given_a_discharged_episode_When_discharged_again_Then_it_is_refused() =>
        Assert.Equal(["already-discharged"], When(GivenEvents(Sample.Opened(), Sample.Discharged(10)), Sample.Discharged(12)));

    [Fact]
    public void Given_an_open_episode_When_a_follow_up_arrives_Then_follow_ups_wait_for_discharge() =>
        Assert.Equal(["not-discharged"], When(GivenEvents(Sample.Opened()), new FollowUpRecorded(Sample.Start.AddDays(40), 6, 3)));

    [Fact]
    public void Given_a_discharge_When_a_follow_up_predates_it_Then_it_is_refused() =>
        Assert.Equal(["not-before-discharge"], When(GivenEvents(Sample.Opened(), Sample.Discharged(30)), new FollowUpRecorded(Sample.Start.AddDays(29), 6, 3)));

    [Fact]
    public void Given_an_episode_When_a_void_names_an_event_it_does_not_hold_Then_it_is_refused() =>
        Assert.Equal(["void-target"], When(GivenEvents(Sample.Opened(), Sample.Session()), new EntryVoided(Guid.NewGuid(), VoidReason.EnteredInError)));

    [Fact]
    public void Given_an_episode_When_a_void_names_its_opening_Then_it_is_refused()
    {
        var given = GivenEvents(Sample.Opened());
        Assert.Equal(["void-target"], When(given, new EntryVoided(given.EventIds[0], VoidReason.EnteredInError)));
    }

    [Fact]
    public void Given_a_voided_session_When_it_is_voided_again_Then_it_is_refused()
    {
        var first = GivenEvents(Sample.Opened(), Sample.Session());
        var episode = Episode.Fold(first.Episode, EpisodeId, Guid.NewGuid(), 3, new EntryVoided(first.EventIds[1], VoidReason.DuplicateEntry));
        Assert.Equal(["void-target"], EpisodeRules.Check(episode, new EntryVoided(first.EventIds[1], VoidReason.DuplicateEntry), "e").Select(e => e.Rule));
    }

    [Fact]
    public void Given_a_discharge_with_follow_ups_When_the_discharge_is_voided_Then_the_follow_ups_must_go_first()
    {
        var given = GivenEvents(Sample.Opened(), Sample.Discharged(10), new FollowUpRecorded(Sample.Start.AddDays(50), 6, 2));
        Assert.Equal(["void-target"], When(given, new EntryVoided(given.EventIds[1], VoidReason.EnteredInError)));
    }

    [Fact]
    public void Given_sessions_When_the_opening_is_corrected_to_after_them_Then_it_is_refused()
    {
        var given = GivenEvents(Sample.Opened(), Sample.Session(2));
        var correction = new EpisodeOpeningCorrected(Sample.Start.AddDays(5), ComplaintRegion.Neck, null, 3,
            OccupationGroup.RepetitiveManual, AgeBand.From30To39, Sex.Male, 6, 20, null);
        Assert.Equal(["not-after-first-session"], When(given, correction));
    }

    [Fact]
    public void Given_a_discharge_When_an_outcome_is_measured_after_it_Then_it_belongs_in_a_follow_up() =>
        Assert.Equal(["not-after-discharge"], When(GivenEvents(Sample.Opened(), Sample.Discharged(10)),
            new OutcomeMeasured(Sample.Start.AddDays(11), Instrument.Odi, 20)));
}

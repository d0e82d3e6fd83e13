using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Episodes;
using MatOutcomes.Platform.Sync.Pushing;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Sync;

/// <summary>Given what the server holds, when a device pushes an episode, then this plan.</summary>
public class SyncDeciderTests
{
    private static readonly Guid EpisodeId = Guid.NewGuid();

    private static IncomingEvent Incoming(int position, object data, Guid? id = null) =>
        new(id ?? Guid.NewGuid(), position, Contracts.Episodes.EventTypes.NameOf(data), data);

    private static (List<StoredRef> Refs, Episode? Episode) Stored(params IncomingEvent[] events)
    {
        Episode? episode = null;
        foreach (var e in events) episode = Episode.Fold(episode, EpisodeId, e.EventId, e.Position, e.Data);
        return (events.Select(e => new StoredRef(e.Position, e.EventId, e.Type)).ToList(), episode);
    }

    private static EpisodePlan When((List<StoredRef> Refs, Episode? Episode) given, params IncomingEvent[] sent) =>
        SyncDecider.Decide(new IncomingEpisode(EpisodeId, sent), given.Refs, given.Episode, "episodes[0]");

    [Fact]
    public void Given_nothing_When_an_episode_arrives_from_position_1_Then_all_of_it_is_appended()
    {
        var plan = When(Stored(), Incoming(1, Sample.Opened()), Incoming(2, Sample.Session()));
        Assert.Equal((EpisodeSyncStatus.Appended, 2, 0, 2), (plan.Status, plan.ToAppend.Count, plan.Duplicates, plan.VersionAfter));
        Assert.Empty(plan.Errors);
    }

    [Fact]
    public void Given_stored_events_When_the_same_events_are_resent_Then_nothing_is_appended()
    {
        var opened = Incoming(1, Sample.Opened());
        var session = Incoming(2, Sample.Session());
        var plan = When(Stored(opened, session), opened, session);
        Assert.Equal((EpisodeSyncStatus.Duplicate, 0, 2), (plan.Status, plan.ToAppend.Count, plan.Duplicates));
    }

    [Fact]
    public void Given_stored_events_When_a_retry_carries_them_and_one_more_Then_only_the_new_one_is_appended()
    {
        var opened = Incoming(1, Sample.Opened());
        var next = Incoming(2, Sample.Session());
        var plan = When(Stored(opened), opened, next);
        Assert.Equal((EpisodeSyncStatus.Appended, 1), (plan.Status, plan.Duplicates));
        Assert.Equal([next.EventId], plan.ToAppend.Select(e => e.EventId));
    }

    [Fact]
    public void Given_a_position_held_by_another_event_When_pushed_Then_it_is_a_conflict_and_nothing_is_appended()
    {
        var opened = Incoming(1, Sample.Opened());
        var theirs = Incoming(2, Sample.Session(1));
        var mine = Incoming(2, Sample.Session(2));
        var plan = When(Stored(opened, theirs), opened, mine, Incoming(3, Sample.Session(3)));
        Assert.Equal(EpisodeSyncStatus.Conflict, plan.Status);
        Assert.Empty(plan.ToAppend);
        Assert.Equal([(2, mine.EventId)], plan.Conflicts);
    }

    [Fact]
    public void Given_a_stored_event_When_its_id_is_sent_at_a_new_position_Then_it_is_a_conflict()
    {
        var opened = Incoming(1, Sample.Opened());
        var session = Incoming(2, Sample.Session());
        var plan = When(Stored(opened, session), Incoming(3, Sample.Session(), session.EventId));
        Assert.Equal(EpisodeSyncStatus.Conflict, plan.Status);
    }

    [Fact]
    public void Given_one_stored_event_When_events_start_at_position_3_Then_it_is_a_gap()
    {
        var plan = When(Stored(Incoming(1, Sample.Opened())), Incoming(3, Sample.Session()));
        Assert.Equal((EpisodeSyncStatus.Gap, 1), (plan.Status, plan.StoredVersion));
        Assert.Empty(plan.ToAppend);
    }

    [Fact]
    public void Given_nothing_When_new_events_break_an_episode_rule_Then_the_plan_carries_the_error_at_its_path()
    {
        var plan = When(Stored(), Incoming(1, Sample.Opened()), Incoming(2, Sample.Discharged(3)), Incoming(3, Sample.Session(4)));
        var error = Assert.Single(plan.Errors);
        Assert.Equal(("episodes[0].events[2].type", "episode-discharged"), (error.Field, error.Rule));
    }

    [Fact]
    public void Given_the_same_inputs_When_decided_twice_Then_the_plans_are_equal()
    {
        var given = Stored(Incoming(1, Sample.Opened()));
        var sent = new[] { Incoming(2, Sample.Session()) };
        var (a, b) = (When(given, sent), When(given, sent));
        Assert.Equal((a.Status, a.Duplicates, a.StoredVersion), (b.Status, b.Duplicates, b.StoredVersion));
        Assert.Equal(a.ToAppend, b.ToAppend);
    }
}

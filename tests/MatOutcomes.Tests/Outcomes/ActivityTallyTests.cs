using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>The clinic activity the one outcome ledger keeps beside the cells, in memory: which day a
/// session counts on, and what a correction takes back.</summary>
public class ActivityTallyTests
{
    private const string Clinic = "clinic-a";
    private static readonly DateOnly Monday = new(2026, 11, 2);

    /// <summary>Folds the whole episode into the ledger, from its first event, as the projection
    /// does with an episode that changed (a summary does not keep the episode).</summary>
    private static OutcomeLedger Given(EpisodeScript episode, OutcomeLedger? ledger = null)
    {
        ledger ??= new OutcomeLedger([]);
        foreach (var e in episode.Events)
            ledger.Apply(Clinic, episode.Id, e.EventId, e.Position, e.Position, EventData(e));
        return ledger;
    }

    private static object EventData(MatOutcomes.Contracts.Sync.EventEnvelope e) =>
        System.Text.Json.JsonSerializer.Deserialize(e.Data.GetRawText(), EventTypes.ByName[e.Type], MatOutcomes.Contracts.ProtocolJson.Options)!;

    private static ClinicTally Tally(OutcomeLedger ledger, ClinicTally? known = null)
    {
        var tallies = new Dictionary<string, ClinicTally>();
        if (known is not null) tallies[Clinic] = known;
        ledger.ApplyTo(tallies, 1);
        return tallies.GetValueOrDefault(Clinic) ?? new ClinicTally { Id = Clinic };
    }

    [Fact]
    public void Given_sessions_on_two_days_When_projected_Then_each_day_counts_its_own()
    {
        var episode = new EpisodeScript().Add(Sample.Opened(on: Monday), Dashboard.Episodes.Session(Monday), Dashboard.Episodes.Session(Monday),
            Dashboard.Episodes.Session(Monday.AddDays(2)));

        var days = Tally(Given(episode)).SessionsByDay;

        Assert.Equal(2, days[Monday]);
        Assert.Equal(1, days[Monday.AddDays(2)]);
    }

    [Fact]
    public void Given_a_session_voided_days_later_When_projected_Then_it_leaves_the_day_it_was_recorded_on()
    {
        var episode = new EpisodeScript().Add(Sample.Opened(on: Monday), Dashboard.Episodes.Session(Monday), Dashboard.Episodes.Session(Monday.AddDays(3)));
        var ledger = Given(episode);
        var tally = Tally(ledger);
        var first = episode.Events[1].EventId;
        episode.Add(new EntryVoided(first, VoidReason.DuplicateEntry));

        var afterVoid = new OutcomeLedger(ledger.Changed);
        Given(episode, afterVoid);
        tally = Tally(afterVoid, tally);

        Assert.False(tally.SessionsByDay.ContainsKey(Monday));
        Assert.Equal(1, tally.SessionsByDay[Monday.AddDays(3)]);
    }

    [Fact]
    public void Given_an_episode_discharged_as_entered_in_error_When_projected_Then_it_counts_for_nothing()
    {
        var episode = new EpisodeScript().Add(Sample.Opened(on: Monday), Dashboard.Episodes.Session(Monday),
            new EpisodeDischarged(Monday, DischargeReason.EnteredInError));

        var tally = Tally(Given(episode));

        Assert.Empty(tally.SessionsByDay);
        Assert.All(Enumerable.Range(0, ActivityContribution.Points), p => Assert.Equal(0, tally.PainAt(p).N));
    }

    [Fact]
    public void Given_a_corrected_baseline_When_projected_Then_the_intake_point_moves_and_sessions_stay()
    {
        var episode = new EpisodeScript().Add(Sample.Opened(baselineNprs: 8, on: Monday), Dashboard.Episodes.Session(Monday, 7, 5));
        var ledger = Given(episode);
        var tally = Tally(ledger);
        var opened = Sample.Opened(baselineNprs: 6, on: Monday);
        episode.Add(new EpisodeOpeningCorrected(opened.OpenedOn, opened.Region, null, opened.PainDurationWeeks, opened.Occupation,
            opened.AgeBand, opened.Sex, 6, null, opened.BaselineOdi));

        var corrected = new OutcomeLedger(ledger.Changed);
        Given(episode, corrected);
        tally = Tally(corrected, tally);

        Assert.Equal((1, 6.0), (tally.PainAt(0).N, tally.PainAt(0).Sum));
        Assert.Equal((1, 7.0), (tally.PainAt(1).N, tally.PainAt(1).Sum));
        Assert.Equal(1, tally.SessionsByDay[Monday]);
    }
}

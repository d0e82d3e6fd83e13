using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Dashboard.Tracking;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>The activity projection's decisions, in memory: which day a session counts on, and
/// what a correction takes back.</summary>
public class ActivityLedgerTests
{
    private const string Clinic = "clinic-a";
    private static readonly DateOnly Monday = new(2026, 11, 2);

    private static ActivityLedger Given(EpisodeScript episode, ActivityLedger? ledger = null, int from = 1)
    {
        ledger ??= new ActivityLedger([]);
        foreach (var e in episode.Events.Skip(from - 1))
            ledger.Apply(Clinic, episode.Id, e.EventId, e.Position, EventData(e));
        return ledger;
    }

    private static object EventData(MatOutcomes.Contracts.Sync.EventEnvelope e) =>
        System.Text.Json.JsonSerializer.Deserialize(e.Data.GetRawText(), MatOutcomes.Contracts.Episodes.EventTypes.ByName[e.Type],
            MatOutcomes.Contracts.ProtocolJson.Options)!;

    private static ClinicTrajectory Trajectory(ActivityLedger ledger)
    {
        var trajectories = new Dictionary<string, ClinicTrajectory>();
        ledger.ApplyTo(trajectories);
        return trajectories[Clinic];
    }

    [Fact]
    public void Given_sessions_on_two_days_When_projected_Then_each_day_counts_its_own()
    {
        var episode = new EpisodeScript().Add(Sample.Opened(on: Monday), Episodes.Session(Monday), Episodes.Session(Monday),
            Episodes.Session(Monday.AddDays(2)));

        var days = Given(episode).DayChanges();

        Assert.Equal(2, days[(Clinic, Monday)]);
        Assert.Equal(1, days[(Clinic, Monday.AddDays(2))]);
    }

    [Fact]
    public void Given_a_session_voided_days_later_When_projected_Then_it_leaves_the_day_it_was_recorded_on()
    {
        var episode = new EpisodeScript().Add(Sample.Opened(on: Monday), Episodes.Session(Monday), Episodes.Session(Monday.AddDays(3)));
        var ledger = Given(episode);
        var first = episode.Events[1].EventId;
        episode.Add(new EntryVoided(first, VoidReason.DuplicateEntry));

        var afterVoid = new ActivityLedger(ledger.Changed);
        Given(episode, afterVoid, from: 4);

        Assert.Equal(-1, afterVoid.DayChanges()[(Clinic, Monday)]);
        Assert.False(afterVoid.DayChanges().ContainsKey((Clinic, Monday.AddDays(3))));
    }

    [Fact]
    public void Given_an_episode_discharged_as_entered_in_error_When_projected_Then_it_counts_for_nothing()
    {
        var episode = new EpisodeScript().Add(Sample.Opened(on: Monday), Episodes.Session(Monday),
            new EpisodeDischarged(Monday, DischargeReason.EnteredInError));

        var ledger = Given(episode);

        Assert.Empty(ledger.DayChanges());
        var trajectories = new Dictionary<string, ClinicTrajectory>();
        ledger.ApplyTo(trajectories);
        Assert.All(trajectories.Values, t => Assert.True(t.IsEmpty));
    }

    [Fact]
    public void Given_a_corrected_baseline_When_projected_Then_the_intake_point_moves_and_sessions_stay()
    {
        var episode = new EpisodeScript().Add(Sample.Opened(baselineNprs: 8, on: Monday), Episodes.Session(Monday, 7, 5));
        var ledger = Given(episode);
        var trajectory = Trajectory(ledger);
        var opened = Sample.Opened(baselineNprs: 6, on: Monday);
        episode.Add(new EpisodeOpeningCorrected(opened.OpenedOn, opened.Region, null, opened.PainDurationWeeks, opened.Occupation,
            opened.AgeBand, opened.Sex, 6, null, opened.BaselineOdi));

        var corrected = new ActivityLedger(ledger.Changed);
        Given(episode, corrected, from: 3);
        corrected.ApplyTo(new Dictionary<string, ClinicTrajectory> { [Clinic] = trajectory });

        Assert.Equal((1, 6.0), (trajectory.Points[0].N, trajectory.Points[0].Sum));
        Assert.Equal((1, 7.0), (trajectory.Points[1].N, trajectory.Points[1].Sum));
        Assert.Empty(corrected.DayChanges());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Alba;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Episodes;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Sync;

public class PushingTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    private async Task<PushAcknowledgement> Push(string clinic, PushBatch batch)
    {
        var result = await platform.Host.Scenario(s =>
        {
            s.WithBearerToken(platform.ClinicToken(clinic));
            s.Post.Json(batch, JsonStyle.MinimalApi).ToUrl($"/api/clinics/{clinic}/events");
            s.StatusCodeShouldBeOk();
        });
        return JsonSerializer.Deserialize<PushAcknowledgement>(await result.ReadAsTextAsync(), ProtocolJson.Options)!;
    }

    private async Task<List<StoredEvent>> Stream(string clinic, Guid episode)
    {
        using var client = platform.Client(platform.ClinicToken(clinic));
        var response = await client.GetAsync($"/api/clinics/{clinic}/episodes/{episode}/events");
        if (response.StatusCode == HttpStatusCode.NotFound) return [];
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<List<StoredEvent>>(ProtocolJson.Options))!;
    }

    [Fact]
    public async Task A_new_episode_is_appended_at_the_positions_sent_and_read_back_unchanged()
    {
        var clinic = PlatformFixture.NewClinic();
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session(1, 7, 4), Sample.Session(8, 6, 3));

        var ack = await Push(clinic, episode.Batch());

        var single = Assert.Single(ack.Episodes);
        Assert.Equal(EpisodeSyncStatus.Appended, single.Status);
        Assert.Equal(3, single.Appended);
        Assert.Equal(3, single.StreamVersion);
        var stored = await Stream(clinic, episode.Id);
        Assert.Equal(episode.Events.Select(e => (e.EventId, e.Position, e.Type, e.Data.GetRawText())),
            stored.Select(e => (e.EventId, e.Position, e.Type, e.Data.GetRawText())));
    }

    [Fact]
    public async Task Re_sending_a_stored_batch_is_acknowledged_as_duplicate_and_appends_nothing()
    {
        var clinic = PlatformFixture.NewClinic();
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session());
        await Push(clinic, episode.Batch());

        var again = await Push(clinic, episode.Batch());

        var single = Assert.Single(again.Episodes);
        Assert.Equal(EpisodeSyncStatus.Duplicate, single.Status);
        Assert.Equal((0, 2), (single.Appended, single.Duplicates));
        Assert.Equal(2, (await Stream(clinic, episode.Id)).Count);
    }

    [Fact]
    public async Task A_retry_that_carries_stored_events_and_new_ones_appends_only_the_new_ones()
    {
        var clinic = PlatformFixture.NewClinic();
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session(1));
        await Push(clinic, episode.Batch());
        episode.Add(Sample.Session(8));

        var ack = Assert.Single((await Push(clinic, episode.Batch())).Episodes);

        Assert.Equal((EpisodeSyncStatus.Appended, 1, 2, 3), (ack.Status, ack.Appended, ack.Duplicates, ack.StreamVersion));
        Assert.Equal(3, (await Stream(clinic, episode.Id)).Count);
    }

    [Fact]
    public async Task A_different_event_at_a_taken_position_is_a_conflict_that_returns_what_the_server_holds()
    {
        var clinic = PlatformFixture.NewClinic();
        var deviceA = new EpisodeScript().Add(Sample.Opened(), Sample.Session(1, 7, 5));
        await Push(clinic, deviceA.Batch());
        var deviceB = new EpisodeScript(deviceA.Id);
        deviceB.Events.Add(deviceA.Events[0]);
        deviceB.Add(Sample.Session(2, 8, 2), Sample.Session(9));
        var other = new EpisodeScript().Add(Sample.Opened());

        var ack = await Push(clinic, new PushBatch([deviceB.All(), other.All()]));

        var conflict = ack.Episodes.Single(e => e.EpisodeId == deviceA.Id);
        Assert.Equal((EpisodeSyncStatus.Conflict, 0, 2), (conflict.Status, conflict.Appended, conflict.StreamVersion));
        var held = Assert.Single(conflict.Conflicts!);
        Assert.Equal((2, deviceB.Events[1].EventId, deviceA.Events[1].EventId), (held.Position, held.SentEventId, held.Stored.EventId));
        Assert.Equal(deviceA.Events[1].Data.GetRawText(), held.Stored.Data.GetRawText());
        Assert.Equal(deviceA.Events.Select(e => e.EventId), (await Stream(clinic, deviceA.Id)).Select(e => e.EventId));
        // The conflict holds back only its own episode.
        Assert.Equal(EpisodeSyncStatus.Appended, ack.Episodes.Single(e => e.EpisodeId == other.Id).Status);
        Assert.Single(await Stream(clinic, other.Id));
    }

    [Fact]
    public async Task Events_that_skip_positions_are_a_gap_that_names_the_expected_position_and_append_nothing()
    {
        var clinic = PlatformFixture.NewClinic();
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session(1), Sample.Session(2), Sample.Session(3));
        await Push(clinic, new PushBatch([episode.From(1) with { Events = episode.Events.Take(1).ToList() }]));

        var ack = Assert.Single((await Push(clinic, new PushBatch([episode.From(3)]))).Episodes);

        Assert.Equal((EpisodeSyncStatus.Gap, 2, 1), (ack.Status, ack.ExpectedPosition, ack.StreamVersion));
        Assert.Single(await Stream(clinic, episode.Id));
    }

    [Fact]
    public async Task Concurrent_devices_pushing_the_same_position_leave_exactly_one_winner_and_lose_nothing_acknowledged()
    {
        var clinic = PlatformFixture.NewClinic();
        var opened = new EpisodeScript().Add(Sample.Opened());
        await Push(clinic, opened.Batch());
        var devices = Enumerable.Range(0, 8).Select(i =>
        {
            var script = new EpisodeScript(opened.Id);
            script.Events.Add(opened.Events[0]);
            return script.Add(Sample.Session(1 + i), Sample.Session(10 + i));
        }).ToList();

        var acks = await Task.WhenAll(devices.Select(async device =>
        {
            using var client = platform.Client(platform.ClinicToken(clinic));
            var response = await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(device.Batch()));
            response.EnsureSuccessStatusCode();
            return (Device: device, Ack: (await response.Content.ReadFromJsonAsync<PushAcknowledgement>(ProtocolJson.Options))!.Episodes.Single());
        }));

        var winners = acks.Where(a => a.Ack.Status == EpisodeSyncStatus.Appended).ToList();
        var winner = Assert.Single(winners);
        Assert.All(acks.Except(winners), a => Assert.Equal(EpisodeSyncStatus.Conflict, a.Ack.Status));
        Assert.Equal(winner.Device.Events.Select(e => e.EventId), (await Stream(clinic, opened.Id)).Select(e => e.EventId));
    }

    [Fact]
    public async Task The_episode_read_model_reflects_the_push_at_once_including_corrections()
    {
        var clinic = PlatformFixture.NewClinic();
        var episode = new EpisodeScript().Add(Sample.Opened(baselineNprs: 8, weeks: 4), Sample.Session(1, 8, 5), Sample.Session(8, 6, 4));
        var mistaken = episode.Events[2].EventId;
        episode.Add(new Contracts.Episodes.EntryVoided(mistaken, Contracts.Episodes.VoidReason.EnteredInError), Sample.Session(8, 5, 3));
        await Push(clinic, episode.Batch());

        var result = await platform.Host.Scenario(s =>
        {
            s.WithBearerToken(platform.ClinicToken(clinic));
            s.Get.Url($"/api/clinics/{clinic}/episodes/{episode.Id}");
        });
        using var view = JsonDocument.Parse(await result.ReadAsTextAsync());
        var root = view.RootElement;
        Assert.Equal("acute", root.GetProperty("cohort").GetString());
        Assert.Equal(2, root.GetProperty("sessionCount").GetInt32());
        Assert.Equal(5, root.GetProperty("latestNprs").GetInt32());
        Assert.Equal(3, root.GetProperty("durableNprsChange").GetInt32());
        Assert.Equal(2.5, root.GetProperty("meanImmediateRelief").GetDouble());
        Assert.Equal(5, root.GetProperty("version").GetInt32());
        Assert.DoesNotContain(root.GetProperty("sessions").EnumerateArray(), s => s.GetProperty("eventId").GetGuid() == mistaken);
    }
}

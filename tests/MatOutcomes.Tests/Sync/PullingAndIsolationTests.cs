using System.Net;
using System.Net.Http.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Sync;

public class PullingAndIsolationTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    private async Task Push(string clinic, params EpisodeScript[] episodes)
    {
        using var client = platform.Client(platform.ClinicToken(clinic));
        var response = await client.PostAsync($"/api/clinics/{clinic}/events",
            PlatformFixture.Json(new PushBatch(episodes.Select(e => e.All()).ToList())));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<List<PullPage>> PullAll(string clinic, int limit, long after = 0)
    {
        using var client = platform.Client(platform.ClinicToken(clinic));
        var pages = new List<PullPage>();
        do
        {
            var page = (await client.GetFromJsonAsync<PullPage>($"/api/clinics/{clinic}/events?after={after}&limit={limit}", ProtocolJson.Options))!;
            pages.Add(page);
            after = page.NextCursor;
        } while (pages[^1].HasMore);
        return pages;
    }

    [Fact]
    public async Task A_second_device_pulling_in_pages_gets_every_event_once_in_commit_order()
    {
        var clinic = PlatformFixture.NewClinic();
        var episodes = Enumerable.Range(0, 5).Select(_ => new EpisodeScript().Add(Sample.Opened(), Sample.Session(1), Sample.Session(2))).ToList();
        await Push(clinic, episodes[0], episodes[1]);
        await Push(clinic, episodes[2]);
        await Push(clinic, episodes[3], episodes[4]);

        var pages = await PullAll(clinic, limit: 4);

        var pulled = pages.SelectMany(p => p.Events).ToList();
        Assert.Equal(4, pages.Count); // 15 events in pages of 4
        Assert.All(pages.SkipLast(1), p => Assert.True(p.HasMore));
        Assert.Equal(episodes.SelectMany(e => e.Events).Select(e => e.EventId).Order(), pulled.Select(e => e.EventId).Order());
        Assert.Equal(pulled.Select(e => e.Sequence).Order(), pulled.Select(e => e.Sequence));
        // Within an episode, pull order is stream order.
        Assert.All(pulled.GroupBy(e => e.EpisodeId), g => Assert.Equal([1, 2, 3], g.Select(e => e.Position)));
    }

    [Fact]
    public async Task Pulling_after_the_last_cursor_returns_only_what_arrived_since()
    {
        var clinic = PlatformFixture.NewClinic();
        await Push(clinic, new EpisodeScript().Add(Sample.Opened()));
        var cursor = (await PullAll(clinic, 100))[^1].NextCursor;
        var later = new EpisodeScript().Add(Sample.Opened(), Sample.Session());
        await Push(clinic, later);

        var pages = await PullAll(clinic, 100, after: cursor);

        Assert.Equal(later.Events.Select(e => e.EventId), pages.SelectMany(p => p.Events).Select(e => e.EventId));
    }

    [Fact]
    public async Task A_pull_with_a_bad_cursor_or_limit_is_refused_by_name()
    {
        var clinic = PlatformFixture.NewClinic();
        using var client = platform.Client(platform.ClinicToken(clinic));

        var response = await client.GetAsync($"/api/clinics/{clinic}/events?after=-1&limit=5000");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"field\":\"after\"", body);
        Assert.Contains("\"field\":\"limit\"", body);
    }

    [Fact]
    public async Task A_clinic_sees_only_its_own_events_even_under_the_same_episode_id()
    {
        var (a, b) = (PlatformFixture.NewClinic(), PlatformFixture.NewClinic());
        var inA = new EpisodeScript().Add(Sample.Opened(patient: "A-0001"));
        var inB = new EpisodeScript(inA.Id).Add(Sample.Opened(patient: "B-0001"), Sample.Session());
        await Push(a, inA);
        await Push(b, inB);

        var pulledByA = (await PullAll(a, 100)).SelectMany(p => p.Events).ToList();
        var pulledByB = (await PullAll(b, 100)).SelectMany(p => p.Events).ToList();

        Assert.Equal(inA.Events.Select(e => e.EventId), pulledByA.Select(e => e.EventId));
        Assert.Equal(inB.Events.Select(e => e.EventId), pulledByB.Select(e => e.EventId));
    }

    [Fact]
    public async Task A_clinic_token_used_on_another_clinic_is_forbidden_and_touches_nothing()
    {
        var (mine, theirs) = (PlatformFixture.NewClinic(), PlatformFixture.NewClinic());
        var theirEpisode = new EpisodeScript().Add(Sample.Opened());
        await Push(theirs, theirEpisode);
        using var client = platform.Client(platform.ClinicToken(mine));
        var intruding = new EpisodeScript().Add(Sample.Opened());

        var push = await client.PostAsync($"/api/clinics/{theirs}/events", PlatformFixture.Json(intruding.Batch()));
        var pull = await client.GetAsync($"/api/clinics/{theirs}/events");
        var read = await client.GetAsync($"/api/clinics/{theirs}/episodes/{theirEpisode.Id}");

        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden], [push.StatusCode, pull.StatusCode, read.StatusCode]);
        Assert.Contains("forbidden-clinic", await push.Content.ReadAsStringAsync());
        var theirEvents = (await PullAll(theirs, 100)).SelectMany(p => p.Events).Select(e => e.EventId);
        Assert.Equal(theirEpisode.Events.Select(e => e.EventId), theirEvents);
    }

    [Fact]
    public async Task Requests_without_a_valid_token_or_with_a_role_that_does_not_sync_are_refused()
    {
        var clinic = PlatformFixture.NewClinic();
        using var anonymous = platform.Host.Server.CreateClient();
        using var researcher = platform.Client(platform.Token(Roles.Researcher, clinic));
        using var forged = platform.Client(platform.ClinicToken(clinic)[..^4] + "AAAA");

        var noToken = await anonymous.GetAsync($"/api/clinics/{clinic}/events");
        var wrongRole = await researcher.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(new EpisodeScript().Add(Sample.Opened()).Batch()));
        var badSignature = await forged.GetAsync($"/api/clinics/{clinic}/events");

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("application/problem+json", noToken.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, wrongRole.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, badSignature.StatusCode);
    }

    [Fact]
    public async Task An_admin_token_may_read_any_clinic()
    {
        var clinic = PlatformFixture.NewClinic();
        await Push(clinic, new EpisodeScript().Add(Sample.Opened()));
        using var admin = platform.Client(platform.Token(Roles.Admin));

        var page = await admin.GetFromJsonAsync<PullPage>($"/api/clinics/{clinic}/events", ProtocolJson.Options);

        Assert.Single(page!.Events);
    }

    [Fact]
    public async Task A_malformed_clinic_id_is_refused_by_name()
    {
        using var admin = platform.Client(platform.Token(Roles.Admin));
        var response = await admin.GetAsync("/api/clinics/Clinic%20One/events");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"field\":\"clinicId\"", await response.Content.ReadAsStringAsync());
    }
}

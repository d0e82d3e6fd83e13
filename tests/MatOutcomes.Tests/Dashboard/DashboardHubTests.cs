using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Dashboard.Computing;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>The hub through a real .NET SignalR client over a socket to Kestrel, fed through the
/// real sync API.</summary>
public class DashboardHubTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private static readonly TimeSpan Liveness = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_manager_gets_the_clinics_figures_at_once_then_an_update_after_a_session_is_synced()
    {
        var clinic = PlatformFixture.NewClinic();
        var today = fixture.Today;
        await fixture.Platform.PushAsync(clinic, Episodes.Opened(today, 3, sessions: [(3, 7, 5), (0, 6, 4)]));
        await using var dashboard = await DashboardConnection.OpenAsync(fixture.Platform.Address, fixture.Platform.Token(Roles.Manager, clinic));

        var initial = await dashboard.WatchAsync(clinic);
        Assert.Equal(clinic, initial.Clinic);
        if (initial.Activity.SessionsToday == 0)
            initial = await dashboard.NextAsync(f => f.Activity.SessionsToday == 1, Liveness);
        Assert.Equal(1, initial.Activity.SessionsToday);

        await fixture.Platform.PushAsync(clinic, Episodes.Opened(today, 0, patient: "P-0002", sessions: [(0, 8, 5)]));

        var updated = await dashboard.NextAsync(f => f.Activity.SessionsToday == 2, Liveness);
        Assert.Equal(clinic, updated.Clinic);
        Assert.Equal(2, updated.Activity.ActiveEpisodes);
    }

    [Fact]
    public async Task Watching_a_clinic_the_token_does_not_name_is_refused()
    {
        var mine = PlatformFixture.NewClinic();
        var theirs = PlatformFixture.NewClinic();
        await using var dashboard = await DashboardConnection.OpenAsync(fixture.Platform.Address, fixture.Platform.Token(Roles.Manager, mine));

        var refused = await Assert.ThrowsAsync<HubException>(() => dashboard.WatchAsync(theirs));
        Assert.Contains($"may not watch clinic '{theirs}'", refused.Message);

        await fixture.Platform.PushAsync(theirs, Episodes.Opened(fixture.Today, 0, sessions: [(0, 6, 3)]));
        Assert.DoesNotContain(await dashboard.CollectAsync(TimeSpan.FromSeconds(3)), f => f.Clinic == theirs);
    }

    [Fact]
    public async Task Only_manager_and_admin_tokens_may_connect()
    {
        var clinic = PlatformFixture.NewClinic();

        var clinicToken = DashboardConnection.Build(fixture.Platform.Address, fixture.Platform.Token(Roles.Clinic, clinic));
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => clinicToken.StartAsync());
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        var anonymous = DashboardConnection.Build(fixture.Platform.Address, token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync())).StatusCode);

        await using var admin = await DashboardConnection.OpenAsync(fixture.Platform.Address, fixture.Platform.Token(Roles.Admin));
        Assert.Equal(clinic, (await admin.WatchAsync(clinic)).Clinic);
    }

    [Fact]
    public async Task The_hub_takes_a_token_from_the_query_string_as_browsers_send_it_and_the_api_does_not()
    {
        var clinic = PlatformFixture.NewClinic();
        var token = fixture.Platform.Token(Roles.Manager, clinic);

        // The browser's way: WebSockets only, no negotiate headers, the token in access_token.
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(fixture.Platform.Address, $"hubs/dashboard?access_token={token}"), o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
            })
            .Build();
        await hub.StartAsync();
        Assert.Equal([clinic], await hub.InvokeAsync<string[]>("Clinics"));

        using var api = new HttpClient { BaseAddress = fixture.Platform.Address };
        var admin = fixture.Platform.Token(Roles.Admin);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync($"api/projections/outcomes?access_token={admin}")).StatusCode);
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("api/projections/outcomes")).StatusCode);
    }

    [Fact]
    public async Task A_voided_session_leaves_todays_count()
    {
        var clinic = PlatformFixture.NewClinic();
        var episode = Episodes.Opened(fixture.Today, 1, sessions: [(0, 6, 4)]);
        await fixture.Platform.PushAsync(clinic, episode);
        await using var dashboard = await DashboardConnection.OpenAsync(fixture.Platform.Address, fixture.Platform.Token(Roles.Manager, clinic));
        if ((await dashboard.WatchAsync(clinic)).Activity.SessionsToday != 1)
            await dashboard.NextAsync(f => f.Activity.SessionsToday == 1, Liveness);

        episode.Add(new EntryVoided(episode.Events[1].EventId, VoidReason.DuplicateEntry));
        await fixture.Platform.PushAsync(clinic, episode);

        var after = await dashboard.NextAsync(f => f.Activity.SessionsToday == 0, Liveness);
        Assert.Equal(0, after.Activity.SessionsThisWeek);
        Assert.Equal(1, after.Activity.ActiveEpisodes);
    }

    [Fact]
    public async Task A_burst_of_a_thousand_sessions_reaches_a_dashboard_as_a_few_coalesced_updates()
    {
        var clinic = PlatformFixture.NewClinic();
        await using var dashboard = await DashboardConnection.OpenAsync(fixture.Platform.Address, fixture.Platform.Token(Roles.Manager, clinic));
        await dashboard.WatchAsync(clinic);
        var bursts = Enumerable.Range(0, 4).Select(b => Enumerable.Range(0, 50)
            .Select(i => Episodes.Opened(fixture.Today, 0, patient: $"P-{b}{i:000}",
                sessions: [(0, 7, 5), (0, 6, 4), (0, 6, 3), (0, 5, 3), (0, 5, 2)]))
            .ToArray()).ToList();

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(bursts.Select(b => fixture.Platform.PushAsync(clinic, b)));
        // The two read models move independently; the last update carries both in full.
        await dashboard.NextAsync(f => f.Activity.SessionsToday == 1000 && f.Activity.ActiveEpisodes == 200, TimeSpan.FromSeconds(60));
        var pushedIn = clock.Elapsed;

        var times = dashboard.Received.Select(f => f.ComputedAt).ToList();
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps, gap => Assert.True(gap >= TimeSpan.FromMilliseconds(900), $"updates {gap.TotalMilliseconds:F0} ms apart"));
        Assert.True(dashboard.Received.Count <= pushedIn.TotalSeconds + 1, $"{dashboard.Received.Count} updates in {pushedIn}");
        Assert.Empty(await dashboard.CollectAsync(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task Figures_over_fewer_than_k_patients_are_withheld_without_their_numbers()
    {
        var clinic = PlatformFixture.NewClinic();
        // 12 chronic and 3 early episodes in care, two sessions each: 15 patients in all.
        var chronic = Enumerable.Range(0, 12).Select(i => Episodes.Opened(fixture.Today, 7, weeks: 20, baseline: 7, patient: $"P-C{i:00}",
            sessions: [(7, 7, 4), (0, 5, 3)]));
        var early = Enumerable.Range(0, 3).Select(i => Episodes.Opened(fixture.Today, 7, weeks: 3, baseline: 6, patient: $"P-E{i:00}",
            sessions: [(7, 6, 3), (0, 3, 2)]));
        await fixture.Platform.PushAsync(clinic, [.. chronic, .. early]);
        await using var dashboard = await DashboardConnection.OpenAsync(fixture.Platform.Address, fixture.Platform.Token(Roles.Manager, clinic));
        var figures = await dashboard.WatchAsync(clinic);
        if (figures.Outcomes.Patients != 15) figures = await dashboard.NextAsync(f => f.Outcomes.Patients == 15, Liveness);

        Assert.Equal(11, figures.K);
        Assert.False(figures.Outcomes.DurableChange.Suppressed);
        Assert.Equal(2.0 * 12 / 15 + 3.0 * 3 / 15, figures.Outcomes.DurableChange.Value!.Value, 9);
        Assert.Equal(3.0 / 15, figures.Outcomes.Responders.Value!.Value, 9); // chronic: 2 points is under 30% of 7

        // The early group is small; shown beside the total, the chronic group would give it away.
        Assert.All(figures.EarlyVersusChronic, g => Assert.Equal(OutcomeFigures.Withheld, g.Clinic));
        Assert.Equal(new CaseMix(null, null, true), figures.Mix);
        var painAtIntake = figures.PainThroughCare[0].Clinic;
        Assert.Equal((15L, 6.8), (painAtIntake.N!.Value, painAtIntake.Value!.Value));
        Assert.Equal(Figure.Withheld, figures.PainThroughCare[3].Clinic);

        var small = PlatformFixture.NewClinic();
        await fixture.Platform.PushAsync(small, Episodes.Opened(fixture.Today, 1, sessions: [(0, 6, 4)]));
        await using var smallDashboard = await DashboardConnection.OpenAsync(fixture.Platform.Address, fixture.Platform.Token(Roles.Manager, small));
        var few = await smallDashboard.WatchAsync(small);
        if (few.Activity.SessionsToday != 1) few = await smallDashboard.NextAsync(f => f.Activity.SessionsToday == 1, Liveness);
        Assert.Equal(OutcomeFigures.Withheld, few.Outcomes);
        Assert.Equal(Figure.Withheld, few.Benchmark.ObservedMinusExpected);
        Assert.All(few.PainThroughCare, p => Assert.Equal(Figure.Withheld, p.Clinic));
    }
}

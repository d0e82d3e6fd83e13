using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.SignalR;

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

        await fixture.Platform.PushAsync(clinic, Episodes.Opened(today, 0, pseudonym: "P-0002", sessions: [(0, 8, 5)]));

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
}

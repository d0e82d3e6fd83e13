using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>The page outlives its server: the process stops, the page says so, a new process
/// starts on the same address and the page is live again, watching the same clinic.</summary>
public class DashboardRestartTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private Browser _browser = null!;
    private string _database = "";
    private KestrelPlatform? _platform;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(15_000);
        _database = await TestCluster.NewDatabaseAsync(nameof(DashboardRestartTests));
        _browser = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        if (_platform is not null) await _platform.DisposeAsync();
        await _browser.DisposeAsync();
    }

    [Fact]
    public async Task A_dashboard_shows_it_is_reconnecting_while_its_server_restarts_then_resumes_its_clinic()
    {
        var port = KestrelPlatform.FreePort();
        _platform = await KestrelPlatform.StartAsync(_database, port: port);
        var clinic = PlatformFixture.NewClinic();
        var token = _platform.Token(Roles.Manager, clinic);
        var (page, errors) = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_platform.Address, $"dashboard?token={token}").ToString());
        var state = page.Locator("#connection-state");
        await Expect(state).ToHaveAttributeAsync("data-state", "live");
        await Expect(page.Locator("[data-figure=\"sessions-today\"]")).ToHaveTextAsync("0");

        await _platform.DisposeAsync();
        _platform = null;
        await Expect(state).ToHaveAttributeAsync("data-state", new System.Text.RegularExpressions.Regex("reconnecting|offline"));
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("dashboard-reconnecting.png") });

        _platform = await KestrelPlatform.StartAsync(_database, port: port, waitForAgents: false);
        await Expect(state).ToHaveAttributeAsync("data-state", "live", new() { Timeout = 30_000 });
        var today = DateOnly.FromDateTime(DateTime.Now);
        await _platform.PushAsync(clinic, Episodes.Opened(today, 0, sessions: [(0, 6, 3)]));
        // A fresh process first has Wolverine hand it the projection and subscription agents.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Expect(page.Locator("[data-figure=\"sessions-today\"]")).ToHaveTextAsync("1", new() { Timeout = 90_000 });
        output.WriteLine($"first update after the restart: {clock.ElapsedMilliseconds} ms after the acknowledgement");
        // The browser logs the dropped connection itself; nothing else may fail.
        Assert.All(errors, e => Assert.Matches("WebSocket|connection|Failed to load resource|ERR_CONNECTION_REFUSED|negotiat", e));
    }
}

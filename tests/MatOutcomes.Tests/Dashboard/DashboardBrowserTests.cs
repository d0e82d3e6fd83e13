using System.Diagnostics;
using System.Text.RegularExpressions;
using MatOutcomes.Platform.Auth;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>The dashboard page in headless Chromium against a platform on Kestrel holding a
/// simulated network: what a manager sees, and that it moves when a clinic syncs.</summary>
public class DashboardBrowserTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    /// <summary>The stated bound between the sync API's acknowledgement and the page showing it.</summary>
    private static readonly TimeSpan ShownWithin = TimeSpan.FromSeconds(10);

    private string Clinic => fixture.Network.Clinics[0].Id;

    private string ManagerToken => fixture.Platform.Token(Roles.Manager, Clinic, fixture.Network.Clinics[1].Id);

    private static ILocator Figure(IPage page, string name) => page.Locator($"[data-figure=\"{name}\"]");

    [Fact]
    public async Task A_manager_sees_the_clinic_at_once_and_a_synced_session_on_the_page_within_ten_seconds()
    {
        var (page, errors) = await fixture.Browser.NewPageAsync();
        await page.GotoAsync(new Uri(fixture.Platform.Address, $"dashboard?token={ManagerToken}").ToString());

        await Expect(page.Locator("#connection-state")).ToHaveAttributeAsync("data-state", "live");
        await Expect(page.Locator("#clinic-title")).ToHaveTextAsync(Clinic);
        var sessionsToday = Figure(page, "sessions-today");
        await Expect(sessionsToday).ToHaveTextAsync(new Regex(@"^\d+$"));
        await Expect(Figure(page, "responders")).ToHaveTextAsync(new Regex(@"^\d+%$"));
        await Expect(page.Locator("#last-update")).ToContainTextAsync("Last update");
        Assert.DoesNotContain("token=", page.Url);
        var before = int.Parse((await sessionsToday.TextContentAsync())!);

        await fixture.Platform.PushAsync(Clinic, Episodes.Opened(fixture.Today, 0, patient: "P-BROWSER1", sessions: [(0, 7, 4)]));
        var acknowledged = Stopwatch.StartNew();
        await Expect(sessionsToday).ToHaveTextAsync($"{before + 1}", new() { Timeout = (float)ShownWithin.TotalMilliseconds });
        output.WriteLine($"acknowledged to shown in the browser: {acknowledged.ElapsedMilliseconds} ms");

        await page.WaitForTimeoutAsync(1500); // let the changed figure's highlight fade for the picture
        var path = Browser.ScreenshotPath("dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
        await page.SetViewportSizeAsync(420, 900);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath("dashboard-narrow.png"), FullPage = true });
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_page_is_refused_a_clinic_the_token_does_not_name_and_offers_the_ones_it_does()
    {
        var other = fixture.Network.Clinics[2].Id;
        var (page, errors) = await fixture.Browser.NewPageAsync();
        await page.GotoAsync(new Uri(fixture.Platform.Address, $"dashboard?token={ManagerToken}&clinic={other}").ToString());

        await Expect(page.Locator("#banner")).ToContainTextAsync($"This token may not watch clinic '{other}'");
        await Expect(page.Locator("#dashboard")).ToBeHiddenAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath("dashboard-refused.png") });

        await page.Locator("#clinic-select").SelectOptionAsync(Clinic);
        await Expect(page.Locator("#clinic-title")).ToHaveTextAsync(Clinic);
        await Expect(page.Locator("#banner")).ToBeHiddenAsync();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_token_pasted_into_the_login_field_is_kept_for_the_next_visit()
    {
        var (page, errors) = await fixture.Browser.NewPageAsync();
        await page.GotoAsync(new Uri(fixture.Platform.Address, "dashboard").ToString());
        await Expect(page.Locator("#login")).ToBeVisibleAsync();

        await page.Locator("#token-input").FillAsync(ManagerToken);
        await page.Locator("#login-form button[type=submit]").ClickAsync();
        await Expect(page.Locator("#clinic-title")).ToHaveTextAsync(Clinic);
        await Expect(page.Locator("#clinic-select option")).ToHaveCountAsync(2);

        await page.ReloadAsync();
        await Expect(page.Locator("#connection-state")).ToHaveAttributeAsync("data-state", "live");
        await Expect(page.Locator("#clinic-title")).ToHaveTextAsync(Clinic);

        await page.Locator("#sign-out").ClickAsync();
        await Expect(page.Locator("#login")).ToBeVisibleAsync();
        Assert.Null(await page.EvaluateAsync<string?>("localStorage.getItem('matoutcomes.dashboard.token')"));
        Assert.Empty(errors);
    }
}

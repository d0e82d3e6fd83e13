using System.Net;
using JasperFx.CommandLine;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MatOutcomes.Tests.Gateway;

/// <summary>The platform on a real socket (Kestrel, 127.0.0.1, a free port) for a real browser.</summary>
public sealed class KestrelPlatform : IAsyncLifetime
{
    private Factory _factory = null!;

    public Uri BaseAddress { get; private set; } = null!;
    public IServiceProvider Services => _factory.Services;

    public async Task InitializeAsync()
    {
        JasperFxEnvironment.AutoStartHost = true;
        var connectionString = await TestCluster.NewDatabaseAsync(nameof(KestrelPlatform));
        _factory = new Factory(connectionString);
        _factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        var address = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address);
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public string ResearcherToken() =>
        Services.GetRequiredService<TokenIssuer>().Mint("ide-researcher", Roles.Researcher, [], TimeSpan.FromHours(1));

    private sealed class Factory(string connectionString) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Marten", connectionString);
        }
    }
}

/// <summary>GraphiQL at /graphql/ide, driven in headless Chromium with no internet: it loads from
/// the platform alone, takes the token from ?token=, runs a query and shows the result.</summary>
public class GatewayIdeTests(KestrelPlatform platform) : IClassFixture<KestrelPlatform>
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_ide_runs_a_query_with_the_researchers_token_and_shows_the_result()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install -y chromium (.ci/run does).");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });

        // Anything not served by the platform is refused and remembered: the IDE must not need it.
        var elsewhere = new List<string>();
        await page.RouteAsync("**/*", async route =>
        {
            if (new Uri(route.Request.Url).Authority == platform.BaseAddress.Authority) await route.ContinueAsync();
            else
            {
                elsewhere.Add(route.Request.Url);
                await route.AbortAsync();
            }
        });
        var problems = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") problems.Add(message.Text); };
        page.PageError += (_, error) => problems.Add(error);

        var token = platform.ResearcherToken();
        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "graphiql-ide.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        try
        {
            await IdePage.OpenAsync(page, platform.BaseAddress, token);

            Assert.DoesNotContain("token=", page.Url);
            Assert.Equal(token, await page.EvaluateAsync<string>("() => localStorage.getItem('matoutcomes.gateway.token')"));

            var response = await IdePage.RunAsync(page, "query FromTheIde { readModel { k sequence } clinics { id episodes } }", "FromTheIde", "readModel");
            Assert.Contains("\"k\": 11", response);
            Assert.DoesNotContain("errors", response);
        }
        finally
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
            Console.WriteLine($"IDE screenshot: {screenshot}; console problems: {string.Join(" | ", problems)}; requests elsewhere: {string.Join(" ", elsewhere)}");
        }

        Assert.Empty(elsewhere);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task The_ide_page_is_served_with_a_same_origin_content_security_policy()
    {
        using var http = new HttpClient { BaseAddress = platform.BaseAddress };
        var response = await http.GetAsync("/graphql/ide/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/graphql/ide/../../appsettings.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/graphql/ide/%2e%2e%2fappsettings.json")).StatusCode);
    }
}

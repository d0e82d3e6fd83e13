using System.Diagnostics;
using System.Text.RegularExpressions;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Dashboard;
using MatOutcomes.Tests.Gateway;
using MatOutcomes.Tests.Support;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using Browser = MatOutcomes.Tests.Dashboard.Browser;

namespace MatOutcomes.Tests.Shipping;

/// <summary>The platform run the two ways it ships: from its build output as demo.sh starts it,
/// and from a `dotnet publish` output in Production with configuration only. Each serves every
/// page to headless Chromium: the dashboard with figures, GraphiQL running a query, /health.</summary>
public class ShippedPlatformTests(ITestOutputHelper output)
{
    // Ports of their own (5180-5189), and embedded data folders the postgres user can reach.
    private const int BuiltPort = 5186, PublishedPort = 5187, FirstPort = 5188, SecondPort = 5189;
    private static readonly string Scratch = ScratchFolder();

    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
    private static string BuildOutput => Repository.PathTo("services", "MatOutcomes.Platform", "bin", Configuration, "net10.0");

    private static string ScratchFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "matoutcomes-ship");
        Directory.CreateDirectory(folder);
        // PostgreSQL runs as the postgres user, which must enter every parent of its data folder.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        return folder;
    }

    /// <summary>A folder of the test's own: platform logs, and the embedded cluster's data in pg/.</summary>
    private static string NewFolder(string name) =>
        Directory.CreateDirectory(Path.Combine(Scratch, $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)])).FullName;

    [Fact]
    public async Task The_build_output_started_as_demo_sh_starts_it_serves_every_page()
    {
        var folder = NewFolder("built");
        await using (var platform = await PlatformProcess.StartAsync(Path.Combine(BuildOutput, "MatOutcomes.Platform.dll"), BuiltPort,
                         new Dictionary<string, string>
                         {
                             ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Postgres__DataDirectory"] = Path.Combine(folder, "pg"),
                         }, folder, contentRoot: BuildOutput))
        {
            Assert.Contains("embedded PostgreSQL", await platform.OutputContainingAsync("embedded PostgreSQL"));
            await DriveEveryPageAsync(platform, "built");
        }
        RemovePassed(folder);
    }

    [Fact]
    public async Task The_publish_output_in_Production_with_configuration_only_serves_every_page()
    {
        var folder = NewFolder("publish");
        var published = Path.Combine(folder, "platform");
        await PublishAsync(published);
        await using var redis = await RedisServer.StartAsync();

        // Everything a deployment sets, as environment variables; run in the folder, as a container does.
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Auth__SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
            ["ConnectionStrings__Marten"] = await TestCluster.NewDatabaseAsync("ShippedProduction"),
            ["SignalR__Redis"] = redis.ConnectionString,
            ["Telemetry__Exporter"] = "console",
        };
        await using (var platform = await PlatformProcess.StartAsync(Path.Combine(published, "MatOutcomes.Platform.dll"), PublishedPort,
                         settings, folder, workingDirectory: published))
        {
            Assert.Contains("Hosting environment: Production", await platform.OutputContainingAsync("Hosting environment: Production"));
            Assert.DoesNotContain("embedded PostgreSQL", platform.Output());

            await DriveEveryPageAsync(platform, "published");
            // Telemetry__Exporter reached the process: the console exporter printed its spans.
            Assert.Contains("Activity.TraceId", await platform.OutputContainingAsync("Activity.TraceId"));
        }
        RemovePassed(folder);
    }

    [Fact]
    public async Task A_second_process_on_the_same_embedded_data_folder_leaves_the_first_ones_cluster_running()
    {
        var folder = NewFolder("shared");
        var data = Path.Combine(folder, "pg");
        var settings = new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Postgres__DataDirectory"] = data };
        var dll = Path.Combine(BuildOutput, "MatOutcomes.Platform.dll");
        await using var first = await PlatformProcess.StartAsync(dll, FirstPort, settings, folder, contentRoot: BuildOutput);
        await using (var second = await PlatformProcess.StartAsync(dll, SecondPort, settings, folder, contentRoot: BuildOutput))
        {
            Assert.Contains("already running, left running when this process exits", second.Output());
            await second.StopAsync();
        }

        using var http = new HttpClient { BaseAddress = first.Address };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("health/ready")).StatusCode);
        var clinic = PlatformFixture.NewClinic();
        using var client = first.Client(first.Token(Roles.Clinic, clinic));
        var pushed = await client.PostAsync($"api/clinics/{clinic}/events", PlatformFixture.Json(new EpisodeScript().Add(Sample.Opened()).Batch()));
        Assert.True(pushed.IsSuccessStatusCode, await pushed.Content.ReadAsStringAsync());

        await first.StopAsync();
        Assert.False(File.Exists(Path.Combine(data, "postmaster.pid")), "the first process left its cluster running");
        await first.DisposeAsync();
        RemovePassed(folder);
    }

    /// <summary>A passed test's folders go (a failed one's stay to inspect): each holds a cluster or a publish.</summary>
    private static void RemovePassed(string folder) => Directory.Delete(folder, recursive: true);

    private async Task PublishAsync(string folder)
    {
        // The test run has built the Platform in this configuration: publish that build, as a release would.
        var started = Stopwatch.StartNew();
        using var publish = Process.Start(new ProcessStartInfo("dotnet",
            ["publish", Repository.PathTo("services", "MatOutcomes.Platform"), "-c", Configuration, "--no-build", "-o", folder, "--nologo", "-v", "quiet"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var stdout = publish.StandardOutput.ReadToEndAsync();
        var stderr = publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync();
        Assert.True(publish.ExitCode == 0, await stdout + await stderr);
        output.WriteLine($"published to {folder} in {started.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>A small network synced over HTTP, then each page in Chromium.</summary>
    private async Task DriveEveryPageAsync(PlatformProcess platform, string name)
    {
        var network = NetworkGenerator.Generate(new NetworkOptions
        {
            Clinics = 2, Episodes = 300, Seed = 20261130, Months = 6, OfflineShare = 0, Today = DateOnly.FromDateTime(DateTime.UtcNow),
        });
        var pusher = new NetworkFixture.Pusher(platform);
        await pusher.PushAsync(network);
        await pusher.WaitForOutcomesAsync(TimeSpan.FromSeconds(90));
        var clinic = network.Clinics[0].Id;

        Assertions.SetDefaultExpectTimeout(15_000);
        await using var browser = await Browser.LaunchAsync();
        try
        {
            var (dashboard, dashboardErrors) = await browser.NewPageAsync();
            dashboard.Response += (_, response) => { if (response.Status >= 400) lock (dashboardErrors) dashboardErrors.Add($"{response.Status} {response.Url}"); };
            await dashboard.GotoAsync(new Uri(platform.Address, $"dashboard?token={platform.Token(Roles.Manager, clinic)}").ToString());
            await Expect(dashboard.Locator("#connection-state")).ToHaveAttributeAsync("data-state", "live");
            await Expect(dashboard.Locator("#clinic-title")).ToHaveTextAsync(clinic);
            await Expect(dashboard.Locator("[data-figure=\"active-episodes\"]")).ToHaveTextAsync(new Regex(@"^\d+$"));
            await Expect(dashboard.Locator("[data-figure=\"responders\"]")).ToHaveTextAsync(new Regex(@"^\d+%$"));
            await dashboard.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath($"{name}-dashboard.png"), FullPage = true });
            Assert.True(dashboardErrors.Count == 0, string.Join("\n", dashboardErrors));

            var (ide, ideErrors) = await browser.NewPageAsync(1400, 900);
            ide.Response += (_, response) => { if (response.Status >= 400) lock (ideErrors) ideErrors.Add($"{response.Status} {response.Url}"); };
            await IdePage.OpenAsync(ide, platform.Address, platform.Token(Roles.Researcher));
            var result = await IdePage.RunAsync(ide, "query Shipped { readModel { k sequence } clinics { id episodes } }", "Shipped", "readModel");
            Assert.Contains("\"k\": 11", result);
            Assert.Contains($"\"{clinic}\"", result);
            Assert.DoesNotContain("\"errors\"", result);
            await ide.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath($"{name}-graphiql.png") });
            Assert.True(ideErrors.Count == 0, string.Join("\n", ideErrors));

            var (health, _) = await browser.NewPageAsync();
            var answer = await health.GotoAsync(new Uri(platform.Address, "health").ToString());
            Assert.Equal(200, answer!.Status);
            Assert.Contains("\"status\":\"Healthy\"", await health.Locator("body").InnerTextAsync());
        }
        catch
        {
            output.WriteLine($"platform log ({platform.LogFile}):\n{platform.Tail(80)}");
            throw;
        }
    }
}

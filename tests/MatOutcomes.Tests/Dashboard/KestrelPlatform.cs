using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using JasperFx.CommandLine;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wolverine.Runtime;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>The platform on Kestrel at a free 127.0.0.1 port: real sockets, so SignalR clients,
/// the browser and a second host can reach it. Settings are configuration keys (e.g.
/// <c>SignalR:Redis</c>).</summary>
public sealed class KestrelPlatform : IAsyncDisposable, IPlatform
{
    private readonly WebApplicationFactory<Program> _factory;

    private KestrelPlatform(WebApplicationFactory<Program> factory, Uri address, CapturedLog log) =>
        (_factory, Address, Log) = (factory, address, log);

    public Uri Address { get; }
    public CapturedLog Log { get; }
    public IServiceProvider Services => _factory.Services;

    /// <param name="waitForAgents">Return only once Wolverine has given this node the outcome
    /// projection (a lone node gets it a few seconds after start), so timings do not include the start-up.</param>
    public static async Task<KestrelPlatform> StartAsync(string connectionString, IReadOnlyDictionary<string, string?>? settings = null,
        int? port = null, bool waitForAgents = true)
    {
        var platform = await Task.Run(() => Start(connectionString, settings, port));
        if (waitForAgents) await platform.WaitForAgentsAsync(TimeSpan.FromSeconds(90));
        return platform;
    }

    public static readonly string[] Agents = [OutcomesProjection.Name];

    public IReadOnlyList<string> RunningAgents() =>
        [.. Services.GetRequiredService<IWolverineRuntime>().Agents.AllRunningAgentUris().Select(u => u.ToString())];

    public async Task WaitForAgentsAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!Agents.All(agent => RunningAgents().Any(uri => uri.Contains($"/{agent}/"))))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Wolverine has not started {string.Join(", ", Agents)} here: {string.Join(", ", RunningAgents())}");
            await Task.Delay(100);
        }
    }

    private static KestrelPlatform Start(string connectionString, IReadOnlyDictionary<string, string?>? settings, int? port)
    {
        JasperFxEnvironment.AutoStartHost = true;
        var log = new CapturedLog();
        var at = port ?? FreePort();
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseSetting("ConnectionStrings:Marten", connectionString);
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) web.UseSetting(key, value);
            web.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(log));
        });
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, at));
        factory.StartServer();
        return new KestrelPlatform(factory, new Uri($"http://127.0.0.1:{at}/"), log);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public string Token(string role, params string[] clinics) =>
        Services.GetRequiredService<TokenIssuer>().Mint("test", role, clinics, TimeSpan.FromHours(1));

    public HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Pushes episodes for a clinic through the sync API and returns when it acknowledged them.</summary>
    public async Task<PushAcknowledgement> PushAsync(string clinic, params EpisodeScript[] episodes)
    {
        using var client = Client(Token(Roles.Clinic, clinic));
        var response = await client.PostAsync($"api/clinics/{clinic}/events",
            PlatformFixture.Json(new PushBatch(episodes.Select(e => e.All()).ToList())));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return System.Text.Json.JsonSerializer.Deserialize<PushAcknowledgement>(body, MatOutcomes.Contracts.ProtocolJson.Options)!;
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();
}

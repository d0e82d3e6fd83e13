using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Alba;
using JasperFx.CommandLine;
using MatOutcomes.Contracts;
using MatOutcomes.Platform.Auth;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace MatOutcomes.Tests.Support;

/// <summary>One platform host (real HTTP pipeline through Alba, real PostgreSQL) per test class.
/// Tests isolate by using fresh clinic and episode ids, never by wiping: a failing test leaves
/// its data behind to inspect.</summary>
public class PlatformFixture : IAsyncLifetime, IPlatform
{
    public IAlbaHost Host { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    public CapturedLog Log { get; } = new();
    /// <summary>Start on a database an earlier host used, instead of a fresh one.</summary>
    public string? ExistingDatabase { get; init; }
    protected string? ExistingDatabaseOverride { get; set; }
    /// <summary>Shorter Wolverine health checks, so agents move between nodes in seconds.</summary>
    protected bool FasterAgents { get; set; }

    public virtual async Task InitializeAsync()
    {
        JasperFxEnvironment.AutoStartHost = true;
        ConnectionString = ExistingDatabaseOverride ?? ExistingDatabase ?? await TestCluster.NewDatabaseAsync(GetType().Name);
        Host = await AlbaHost.For<Program>(builder =>
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Marten", ConnectionString);
            builder.ConfigureServices(services =>
            {
                services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(Log);
                if (FasterAgents)
                    services.ConfigureWolverine(o =>
                    {
                        o.Durability.HealthCheckPollingTime = TimeSpan.FromSeconds(1);
                        o.Durability.CheckAssignmentPeriod = TimeSpan.FromSeconds(1);
                        o.Durability.StaleNodeTimeout = TimeSpan.FromSeconds(5);
                    });
            });
            ConfigureHost(builder);
        });
    }

    /// <summary>Lets a test class adjust its host (settings, services) before it starts.</summary>
    protected virtual void ConfigureHost(IWebHostBuilder builder)
    {
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();

    public string Token(string role, params string[] clinics) =>
        Host.Services.GetRequiredService<TokenIssuer>().Mint("test", role, clinics, TimeSpan.FromHours(1));

    public string ClinicToken(string clinic) => Token(Roles.Clinic, clinic);

    /// <summary>A plain HttpClient on the host, for raw bodies and concurrency tests.</summary>
    public HttpClient Client(string token)
    {
        var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static StringContent Json(object body) =>
        new(body as string ?? JsonSerializer.Serialize(body, ProtocolJson.Options), Encoding.UTF8, "application/json");

    public static string NewClinic() => $"clinic-{Guid.NewGuid():N}"[..20];
}

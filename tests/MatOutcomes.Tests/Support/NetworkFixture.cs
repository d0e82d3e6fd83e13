using System.Net.Http.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Simulator.Sync;

namespace MatOutcomes.Tests.Support;

/// <summary>A platform loaded with a simulated network, pushed over HTTP the way the simulator
/// does, and the outcome projection caught up.</summary>
public class NetworkFixture : PlatformFixture
{
    public SimulatedNetwork Network { get; private set; } = null!;

    protected virtual NetworkOptions Options => new()
    {
        Clinics = 4, Episodes = 1500, Seed = 20261125, Months = 12, OfflineShare = 0.25,
        Today = new DateOnly(2026, 11, 1),
    };

    protected Task InitializeHostAsync() => base.InitializeAsync();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Network = NetworkGenerator.Generate(Options);
        await PushAsync(Network);
        await WaitForOutcomesAsync();
    }

    public Task PushAsync(SimulatedNetwork network) => new Pusher(this).PushAsync(network);

    public Task<ProjectionStatus> WaitForOutcomesAsync(TimeSpan? within = null) => new Pusher(this).WaitForOutcomesAsync(within);

    /// <summary>Pushes networks into any platform host and waits for its projection.</summary>
    public sealed class Pusher(IPlatform platform)
    {
        public async Task<SyncReport> PushAsync(SimulatedNetwork network, CancellationToken cancellation = default)
        {
            using var client = platform.Client(platform.Token(Roles.Clinic, [.. network.Clinics.Select(c => c.Id)]));
            var report = await new SyncRunner(_ => client, new SyncRunOptions { OnlineWindowDays = 7 }).RunAsync(network, cancellation: cancellation);
            Assert.Empty(report.Refusals);
            return report;
        }

        /// <summary>Waits (generously) until the outcome read models include every stored event, then
        /// cuts a release of them, as an admin would, so research figures include them.</summary>
        public async Task<ProjectionStatus> WaitForOutcomesAsync(TimeSpan? within = null)
        {
            using var client = platform.Client(platform.Token(Roles.Admin));
            var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
            while (true)
            {
                var status = (await client.GetFromJsonAsync<ProjectionStatus>("api/projections/outcomes", ProtocolJson.Options))!;
                if (status.LagEvents == 0 && status.OutcomesSequence > 0)
                {
                    var cut = await client.PostAsync("api/releases", null);
                    Assert.True(cut.IsSuccessStatusCode, $"cutting a release: {(int)cut.StatusCode} {await cut.Content.ReadAsStringAsync()}");
                    return status;
                }
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"outcome projection still behind: {status}\n{string.Join("\n", platform.Log.Lines.TakeLast(10))}");
                await Task.Delay(200);
            }
        }
    }
}

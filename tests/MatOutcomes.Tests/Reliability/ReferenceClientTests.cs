using MatOutcomes.Platform.Auth;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Simulator.Sync;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Reliability;

/// <summary>The reference client stopped part-way (the clinic's machine shut down) and started
/// again with what it recorded resumes where it stopped, rather than from the beginning.</summary>
public class ReferenceClientTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    [Fact]
    public async Task A_run_stopped_part_way_resumes_from_the_last_acknowledged_day_and_loses_nothing()
    {
        var network = NetworkGenerator.Generate(new NetworkOptions
            { Clinics = 2, Episodes = 60, Seed = 61, Months = 3, Today = new DateOnly(2026, 11, 1) });
        using var client = platform.Client(platform.Token(Roles.Clinic, [.. network.Clinics.Select(c => c.Id)]));
        using var stop = new CancellationTokenSource();
        var recorded = 0;

        var first = new SyncRunner(_ => client, new SyncRunOptions
        {
            DayDone = days =>
            {
                recorded = days;
                if (days == 10) stop.Cancel();
            },
        }).RunAsync(network, cancellation: stop.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal(10, recorded);

        var second = await new SyncRunner(_ => client, new SyncRunOptions { DaysDone = recorded }).RunAsync(network);

        Assert.Empty(second.Refusals);
        Assert.True(second.EventsSent < network.EventCount, $"the second run sent {second.EventsSent} of {network.EventCount} events: it started over");
        await Invariants.AssertStoreAsync(platform.ConnectionString, network);
    }
}

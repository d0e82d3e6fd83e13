using System.Diagnostics;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Simulator.Sync;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Reliability;

/// <summary>The platform process is SIGKILLed twice while the reference client syncs a network to
/// it; the client retries until a new process answers, and afterwards nothing acknowledged is lost,
/// nothing is doubled and the read models catch up with the log.</summary>
public class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_platform_killed_twice_during_sync_loses_nothing_and_its_read_models_catch_up()
    {
        var database = await TestCluster.NewDatabaseAsync(nameof(CrashTests));
        var network = NetworkGenerator.Generate(new NetworkOptions
            { Clinics = 3, Episodes = 450, Seed = 31, Months = 6, OfflineShare = 0.3, Today = new DateOnly(2026, 11, 1) });
        // A free port, kept for the restarts: other checkouts on the machine may run these tests too.
        var platform = new ChildPlatform(database, Dashboard.KestrelPlatform.FreePort());
        await platform.StartAsync();
        using var stop = new CancellationTokenSource();
        var violations = new List<string>();
        var watching = Invariants.WatchProgressAsync(() => platform, violations, stop.Token);
        try
        {
            long acknowledged = 0;
            using var client = platform.Client(platform.Token(Roles.Clinic, [.. network.Clinics.Select(c => c.Id)]));
            var runner = new SyncRunner(_ => client, new SyncRunOptions
            {
                OnlineWindowDays = 3, OfflineWindowDays = 14, MaxEventsPerBatch = 200,
                FirstRetryDelay = TimeSpan.FromMilliseconds(100), MaxRetryDelay = TimeSpan.FromSeconds(1),
            });
            var sync = runner.RunAsync(network, new Progress<long>(n => Interlocked.Exchange(ref acknowledged, n)));

            var restarts = new List<Stopwatch>();
            foreach (var share in new[] { 0.3, 0.6 })
            {
                while (Interlocked.Read(ref acknowledged) < network.EventCount * share && !sync.IsCompleted) await Task.Delay(20);
                Assert.False(sync.IsCompleted, $"the sync finished before the kill at {share:P0}");
                await platform.KillAsync();
                output.WriteLine($"killed at {Interlocked.Read(ref acknowledged)} acknowledged events");
                await Task.Delay(500);
                restarts.Add(Stopwatch.StartNew());
                await platform.StartAsync();
                output.WriteLine($"live {restarts[^1].Elapsed.TotalSeconds:F1} s after the restart");
            }

            var report = await sync;
            var lastPush = Stopwatch.StartNew();
            Assert.Empty(report.Refusals);
            await new NetworkFixture.Pusher(platform).WaitForOutcomesAsync(TimeSpan.FromSeconds(120));
            output.WriteLine($"{report.EventsAppended} events acknowledged as appended ({report.Duplicates} as duplicates, " +
                             $"{report.Retries} retries, {report.Resends} re-sends) of {network.EventCount}; read models caught up " +
                             $"{lastPush.Elapsed.TotalSeconds:F1} s after the last push, {restarts[^1].Elapsed.TotalSeconds:F1} s after the last restart");
            Assert.True(report.Retries > 0, "the client never had to retry: the kills missed the sync");

            await Invariants.AssertAllAsync(database, network, platform);
            await stop.CancelAsync();
            await watching;
            Assert.Empty(violations);
        }
        catch (Exception e)
        {
            output.WriteLine(platform.Tail());
            throw new Xunit.Sdk.XunitException($"{e.Message}\n--- platform log ---\n{platform.Tail(20)}");
        }
        finally
        {
            await stop.CancelAsync();
            await platform.DisposeAsync();
        }
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Simulator.Sync;
using MatOutcomes.Tests.Dashboard;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Reliability;

/// <summary>PostgreSQL stops under a syncing network and starts again; the platform keeps running.
/// While the database is down every push is answered 503 problem details with Retry-After (never a
/// bare 500); the client re-sends; afterwards nothing is lost or doubled and the projections resume
/// by themselves.</summary>
public class DatabaseRestartTests(ITestOutputHelper output)
{
    /// <summary>Records every answer the client got, to show what it saw during the outage.</summary>
    private sealed class Recorder() : DelegatingHandler(new SocketsHttpHandler())
    {
        public ConcurrentBag<(HttpStatusCode Status, bool RetryAfter, string? MediaType)> Answers { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellation)
        {
            var response = await base.SendAsync(request, cancellation);
            Answers.Add((response.StatusCode, response.Headers.RetryAfter is not null, response.Content.Headers.ContentType?.MediaType));
            return response;
        }
    }

    [Fact]
    public async Task While_the_database_is_down_pushes_get_503_with_retry_after_and_afterwards_nothing_is_lost()
    {
        await using var cluster = await PrivateCluster.StartAsync("restart");
        await using var platform = await KestrelPlatform.StartAsync(cluster.ConnectionString);
        var network = NetworkGenerator.Generate(new NetworkOptions
            { Clinics = 3, Episodes = 360, Seed = 41, Months = 6, Today = new DateOnly(2026, 11, 1) });
        var recorder = new Recorder();
        using var client = new HttpClient(recorder) { BaseAddress = platform.Address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            platform.Token(Roles.Clinic, [.. network.Clinics.Select(c => c.Id)]));
        long acknowledged = 0;
        var sync = new SyncRunner(_ => client, new SyncRunOptions
        {
            OnlineWindowDays = 2, MaxEventsPerBatch = 100, LostAckRate = 0,
            FirstRetryDelay = TimeSpan.FromMilliseconds(100), MaxRetryDelay = TimeSpan.FromSeconds(1),
        }).RunAsync(network, new Progress<long>(n => Interlocked.Exchange(ref acknowledged, n)));

        while (Interlocked.Read(ref acknowledged) < network.EventCount / 4 && !sync.IsCompleted) await Task.Delay(20);
        Assert.False(sync.IsCompleted, "the sync finished before the outage");
        await cluster.StopAsync();
        output.WriteLine($"database stopped at {Interlocked.Read(ref acknowledged)} acknowledged events");

        var clinic = PlatformFixture.NewClinic();
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session());
        using var clinicClient = platform.Client(platform.Token(Roles.Clinic, clinic));
        var during = await clinicClient.PostAsync($"api/clinics/{clinic}/events", PlatformFixture.Json(episode.Batch()));
        var body = await during.Content.ReadAsStringAsync();
        Assert.True(during.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)during.StatusCode}: {body}");
        Assert.Equal("application/problem+json", during.Content.Headers.ContentType?.MediaType);
        Assert.Contains("urn:matoutcomes:problem:database-unavailable", body);
        Assert.True(during.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        using var probe = new HttpClient { BaseAddress = platform.Address, Timeout = TimeSpan.FromSeconds(10) };
        var ready = await probe.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("health/live")).StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(3));
        await cluster.StartAgainAsync();
        output.WriteLine("database started again");

        var report = await sync;
        var readyAgain = DateTime.UtcNow.AddSeconds(60);
        while ((await probe.GetAsync("health/ready")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < readyAgain, "not ready a minute after the database came back");
            await Task.Delay(250);
        }
        Assert.Empty(report.Refusals);
        var resent = await clinicClient.PostAsync($"api/clinics/{clinic}/events", PlatformFixture.Json(episode.Batch()));
        Assert.Equal(HttpStatusCode.OK, resent.StatusCode);

        var answers = recorder.Answers.ToList();
        output.WriteLine(string.Join(", ", answers.GroupBy(a => a.Status).Select(g => $"{(int)g.Key}: {g.Count()}")));
        Assert.Contains(answers, a => a.Status == HttpStatusCode.ServiceUnavailable);
        Assert.All(answers.Where(a => (int)a.Status >= 500), a =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status);
            Assert.True(a.RetryAfter, "a 503 without Retry-After");
            Assert.Equal("application/problem+json", a.MediaType);
        });

        // The push answered 503 during the outage, then re-sent, counts like every other.
        var everything = network with { Clinics = [.. network.Clinics, new SimulatedClinic(clinic, false, 1,
            [new SimulatedEpisode(episode.Id, clinic, [.. episode.Events.Select(e => new TimedEvent(Sample.Start, e, e.Data))])])] };
        await Invariants.AssertAllAsync(cluster.ConnectionString, everything, platform);
    }
}

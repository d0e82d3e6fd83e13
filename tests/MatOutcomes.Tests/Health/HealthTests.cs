using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MatOutcomes.Platform.Storage;
using MatOutcomes.Tests.Dashboard;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Health;

/// <summary>/health/live and /health/ready (= /health) on a platform on Kestrel: readiness means the
/// database answers and every projection runs on some node, with its lag in the body.</summary>
public class HealthTests
{
    [Fact]
    public async Task Readiness_names_the_node_running_each_projection_and_its_lag_once_the_read_models_caught_up()
    {
        await using var platform = await KestrelPlatform.StartAsync(await TestCluster.NewDatabaseAsync(nameof(HealthTests)));
        var clinic = PlatformFixture.NewClinic();
        await platform.PushAsync(clinic, new EpisodeScript().Add(Sample.Opened(), Sample.Session(), Sample.Session(day: 3)));
        using var http = new HttpClient { BaseAddress = platform.Address };

        JsonElement projections = default;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            var response = await http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("Healthy", body.RootElement.GetProperty("entries").GetProperty("database").GetProperty("status").GetString());
            projections = body.RootElement.GetProperty("entries").GetProperty("projections").Clone();
            if (KestrelPlatform.Agents.All(a => projections.GetProperty("data").GetProperty(a).GetProperty("lag").GetInt64() == 0)) break;
            await Task.Delay(250);
        } while (DateTime.UtcNow < deadline);

        Assert.Equal("Healthy", projections.GetProperty("status").GetString());
        foreach (var agent in KestrelPlatform.Agents)
        {
            var shard = projections.GetProperty("data").GetProperty(agent);
            Assert.Equal(0, shard.GetProperty("lag").GetInt64());
            Assert.True(shard.GetProperty("sequence").GetInt64() >= 3, $"{agent}: {shard}");
            Assert.True(shard.GetProperty("node").GetInt32() > 0, $"{agent}: {shard}");
        }
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);
        Assert.Equal("Healthy", await http.GetStringAsync("health/live"));
    }

    [Fact]
    public async Task With_its_database_gone_a_node_is_alive_but_not_ready_and_says_so_within_seconds()
    {
        var cluster = await EmbeddedPostgres.StartAsync(
            Path.Combine(Path.GetTempPath(), "matoutcomes-pg", $"health-{Guid.NewGuid():N}"), durable: false, deleteOnStop: true);
        await using var platform = await KestrelPlatform.StartAsync(cluster.ConnectionString(), waitForAgents: false);
        using var http = new HttpClient { BaseAddress = platform.Address, Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/ready")).StatusCode);

        await cluster.DisposeAsync();

        var asked = Stopwatch.StartNew();
        var ready = await http.GetAsync("health/ready");
        Assert.True(asked.Elapsed < TimeSpan.FromSeconds(5), $"readiness took {asked.Elapsed}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("entries").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
    }
}

using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using Marten;
using MatOutcomes.Contracts;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Gateway;

/// <summary>Runs only with MATOUTCOMES_BENCHMARK=1: a measurement, not a check.</summary>
public sealed class BenchmarkFactAttribute : FactAttribute
{
    public BenchmarkFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("MATOUTCOMES_BENCHMARK") != "1")
            Skip = "A measurement: set MATOUTCOMES_BENCHMARK=1 to run it.";
    }
}

/// <summary>Cohort-comparison latency through the whole HTTP pipeline (in-process server) over
/// the simulator's demo network and one 10x smaller. Prints p50/p90/p99; asserts nothing about time.</summary>
public class GatewayLatencyBenchmark(ITestOutputHelper output)
{
    private sealed class Network(NetworkOptions options) : NetworkFixture
    {
        protected override NetworkOptions Options => options;

        protected override void ConfigureHost(IWebHostBuilder builder) =>
            builder.UseSetting("Gateway:RateLimit:PermitLimit", "1000000");
    }

    private const int Requests = 400;

    private static readonly object[] Filters =
    [
        new { },
        new { regions = new[] { "LOW_BACK" } },
        new { includeActive = true, chronicFromWeeks = 26 },
        new { ageBands = new[] { "AGE_40_49", "AGE_50_59" }, includeActive = true },
    ];

    [BenchmarkFact]
    public async Task Cohort_comparison_latency_full_and_tenth_network()
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var report = new StringBuilder();
        foreach (var (label, options) in new[]
                 {
                     ("demo network (simulator defaults)", new NetworkOptions { Today = today }),
                     ("10x smaller", new NetworkOptions { Today = today, Clinics = 8, Episodes = 300 }),
                 })
        {
            var network = new Network(options);
            await network.InitializeAsync();
            try
            {
                var status = await network.WaitForOutcomesAsync(TimeSpan.FromMinutes(5));
                var gql = new GraphQLClient(network.Client(network.Token(Roles.Researcher)));
                var cells = (await gql.QueryAsync("{ cohortComparison(filter: { includeActive: true }) { early { episodes } chronic { episodes } } }"))["cohortComparison"]!;
                var query = "query($filter: StudyFilter) { cohortComparison(filter: $filter) { ...Comparison } }" + Fragments.Comparison;

                var cold = Stopwatch.StartNew();
                await gql.QueryAsync(query, new { filter = Filters[0] });
                cold.Stop();
                for (var i = 0; i < 20; i++) await gql.QueryAsync(query, new { filter = Filters[i % Filters.Length] });

                // Every request a filter never seen (the NPRS MCID percent moves a little), so each is computed.
                object Distinct(int i) => new { includeActive = i % 2 == 0, nprsMcidPercent = 30 + i * 0.001, regions = i % 4 == 1 ? new[] { "LOW_BACK" } : null };
                var computed = new List<double>();
                for (var i = 0; i < Requests; i++)
                {
                    var watch = Stopwatch.StartNew();
                    await gql.QueryAsync(query, new { filter = Distinct(i) });
                    computed.Add(watch.Elapsed.TotalMilliseconds);
                }

                var repeated = new List<double>();
                for (var i = 0; i < Requests; i++)
                {
                    var watch = Stopwatch.StartNew();
                    await gql.QueryAsync(query, new { filter = Filters[i % Filters.Length] });
                    repeated.Add(watch.Elapsed.TotalMilliseconds);
                }

                var concurrent = new List<double>();
                var wall = Stopwatch.StartNew();
                await Parallel.ForAsync(0, Requests, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
                {
                    var watch = Stopwatch.StartNew();
                    await gql.QueryAsync(query, new { filter = Distinct(Requests + i) });
                    lock (concurrent) concurrent.Add(watch.Elapsed.TotalMilliseconds);
                });
                wall.Stop();

                using var rest = network.Client(network.Token(Roles.Researcher));
                var restTimes = new List<double>();
                for (var i = 0; i < Requests / 4; i++)
                {
                    var watch = Stopwatch.StartNew();
                    (await rest.PostAsJsonAsync("/api/studies/cohort-comparison", new StudyQuery(), ProtocolJson.Options)).EnsureSuccessStatusCode();
                    restTimes.Add(watch.Elapsed.TotalMilliseconds);
                }

                var replay = Stopwatch.StartNew();
                await gql.QueryAsync("query($s: Long) { cohortComparison(asOf: $s) { sequence } }", new { s = status.OutcomesSequence - 1 });
                replay.Stop();

                var episodes = network.Network.Episodes.Count();
                await using var session = network.Host.Services.GetRequiredService<IDocumentStore>().QuerySession();
                var cellCount = await session.Query<OutcomeCell>().CountAsync();
                report.AppendLine($"{label}: {network.Network.Clinics.Count} clinics, {episodes} episodes, {network.Network.EventCount} events, {cellCount} cells, " +
                                  $"{cells["early"]!["episodes"]} + {cells["chronic"]!["episodes"]} episodes in the read models");
                report.AppendLine($"  first request after projection (loads cells): {cold.Elapsed.TotalMilliseconds:F1} ms");
                report.AppendLine($"  sequential, {Requests} requests, full comparison, every filter new (computed): {Percentiles(computed)}");
                report.AppendLine($"  sequential, {Requests} requests, 4 filters repeated (remembered per sequence): {Percentiles(repeated)}");
                report.AppendLine($"  4 concurrent clients, {Requests} requests, every filter new: {Percentiles(concurrent)}; {Requests / wall.Elapsed.TotalSeconds:F0} requests/s");
                report.AppendLine($"  REST endpoint, same statistics, default filter: {Percentiles(restTimes)}");
                report.AppendLine($"  asOf replay of the event log (first time, uncached): {replay.Elapsed.TotalMilliseconds:F0} ms");
            }
            finally
            {
                await network.DisposeAsync();
            }
        }

        output.WriteLine(report.ToString());
        var file = Path.Combine(AppContext.BaseDirectory, "benchmarks", "gateway-latency.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, report.ToString());
        output.WriteLine($"written to {file}");
    }

    private static string Percentiles(List<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToList();
        double At(double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
        return $"p50 {At(0.50):F1} ms, p90 {At(0.90):F1} ms, p99 {At(0.99):F1} ms, mean {sorted.Average():F1} ms";
    }
}

using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace MatOutcomes.Simulator.Sync;

public sealed record LagReport(int Samples, long P50, long P99, long Max, TimeSpan? CaughtUpAfterLoad);

/// <summary>Samples the outcome projection's lag (events appended but not yet projected) while
/// the network syncs, and how long it takes to reach zero once the pushes stop.</summary>
public sealed class LagWatcher(HttpClient client)
{
    private readonly List<long> _samples = [];

    private async Task<long?> SampleAsync(CancellationToken cancellation)
    {
        try
        {
            using var status = JsonDocument.Parse(await client.GetStringAsync("api/projections/outcomes", cancellation));
            return status.RootElement.GetProperty("lagEvents").GetInt64();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            // The platform is restarting or busy: a gap in the samples, never the end of the run.
            return null;
        }
    }

    public async Task WatchAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (await SampleAsync(CancellationToken.None) is { } lag) lock (_samples) _samples.Add(lag);
            await Task.Delay(250, CancellationToken.None);
        }
    }

    public async Task<LagReport> FinishAsync(TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan? caughtUp = null;
        while (clock.Elapsed < within)
        {
            if (await SampleAsync(CancellationToken.None) == 0) { caughtUp = clock.Elapsed; break; }
            await Task.Delay(100);
        }
        long[] sorted;
        lock (_samples) sorted = [.. _samples.Order()];
        long At(double q) => sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(q * sorted.Length) - 1)];
        return new LagReport(sorted.Length, At(0.5), At(0.99), sorted.LastOrDefault(), caughtUp);
    }
}

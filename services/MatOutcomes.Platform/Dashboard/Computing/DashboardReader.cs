using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;
using MatOutcomes.Platform.Outcomes.Studying;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Dashboard.Computing;

public sealed class DashboardOptions
{
    /// <summary>IANA time zone that decides what "today" and "this week" are (sessions carry the
    /// clinic's local date). Default: the server's own zone.</summary>
    public string? TimeZone { get; set; }

    /// <summary>At most one update per clinic per interval, however many sessions arrive. The first
    /// change after a quiet interval goes out at once; later ones wait for the interval's end.</summary>
    public TimeSpan CoalesceInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Days of sessions the activity chart shows, ending today.</summary>
    public int RecentDays { get; set; } = 14;
}

/// <summary>Computes dashboards in memory: a clinic's figures from its running sums in the live cube
/// (O(1)), the network's from the latest release. Reads nothing from the database.</summary>
public sealed class DashboardReader(OutcomeCube cube, Releases releases, ProjectionLag lag, IOptions<PrivacyOptions> privacy,
    IOptions<DashboardOptions> options, TimeProvider clock)
{
    private readonly TimeZoneInfo _zone = options.Value.TimeZone is { Length: > 0 } id ? TimeZoneInfo.FindSystemTimeZoneById(id) : TimeZoneInfo.Local;

    public DateOnly Today() => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), _zone).DateTime);

    /// <summary>One clinic's figures from the latest snapshot.</summary>
    public async Task<DashboardFigures> CurrentAsync(string clinic, CancellationToken cancellation) =>
        For(await cube.CurrentAsync(cancellation), clinic);

    public DashboardFigures For(CubeSnapshot snapshot, string clinic)
    {
        var k = privacy.Value.K;
        var network = releases.Latest?.Network ?? NetworkFigures.None;
        var calculator = snapshot.Memo($"dashboard:{k}:{network.Release}", s => new DashboardCalculator(s, network, k));
        var status = lag.Last;
        // The snapshot may be newer than the last lag sample: never report it behind itself.
        var shown = status with { OutcomesSequence = snapshot.Sequence, LagEvents = Math.Max(0, status.HighestEventSequence - snapshot.Sequence) };
        return calculator.For(clinic, Today(), clock.GetUtcNow(), options.Value.RecentDays, shown);
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MatOutcomes.Platform.ServiceDefaults;

/// <summary>The platform's own traces and meters, beside those of ASP.NET Core, Npgsql, Marten
/// and Wolverine.</summary>
public sealed class PlatformTelemetry
{
    public const string Name = "MatOutcomes";
    public static readonly ActivitySource Source = new(Name);

    public PlatformTelemetry(IMeterFactory meters)
    {
        var meter = Meter = meters.Create(Name);
        EventsIngested = meter.CreateCounter<long>("matoutcomes.sync.events_ingested", "{event}", "Events appended by the sync API");
        DuplicatesAcknowledged = meter.CreateCounter<long>("matoutcomes.sync.duplicates", "{event}", "Re-sent events acknowledged without appending");
        EpisodeConflicts = meter.CreateCounter<long>("matoutcomes.sync.conflicts", "{episode}", "Episodes refused because a position held another event");
        PushDuration = meter.CreateHistogram<double>("matoutcomes.sync.push_duration", "ms", "Time to decide and commit one push");
        _cubeCells = meter.CreateCounter<long>("matoutcomes.cube.cells_read", "{cell}", "Outcome cells read by the in-memory cube (only changed ones after the first load)");
        _cubeRefresh = meter.CreateHistogram<double>("matoutcomes.cube.refresh_duration", "ms", "Reading changed cells and publishing a new cube snapshot");
    }

    private readonly Counter<long> _cubeCells;
    private readonly Histogram<double> _cubeRefresh;

    public void CubeRefreshed(int cells, double milliseconds)
    {
        _cubeCells.Add(cells);
        _cubeRefresh.Record(milliseconds);
    }

    public Meter Meter { get; }
    public Counter<long> EventsIngested { get; }
    public Counter<long> DuplicatesAcknowledged { get; }
    public Counter<long> EpisodeConflicts { get; }
    public Histogram<double> PushDuration { get; }
}

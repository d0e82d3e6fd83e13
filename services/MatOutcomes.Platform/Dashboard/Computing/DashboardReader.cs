using System.Collections.Concurrent;
using Marten;
using MatOutcomes.Platform.Dashboard.Tracking;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Dashboard.Computing;

public sealed class DashboardOptions
{
    /// <summary>IANA time zone that decides what "today" and "this week" are (sessions carry the
    /// clinic's local date). Default: the server's own zone.</summary>
    public string? TimeZone { get; set; }

    /// <summary>At most one update per clinic per interval, however many sessions arrive.</summary>
    public TimeSpan CoalesceInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How old a network view may be when a dashboard connects; connecting dashboards share it.</summary>
    public TimeSpan MaxViewAge { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Days of sessions the activity chart shows, ending today.</summary>
    public int RecentDays { get; set; } = 14;
}

/// <summary>Reads what the dashboards are computed from. The network part (every outcome cell,
/// every clinic's pain curve, the projection's lag) is read once and shared by all clinics and
/// connections for <see cref="DashboardOptions.MaxViewAge"/>, so a thousand dashboards connecting
/// at once cost one read, not a thousand.</summary>
public sealed class DashboardReader(IDocumentStore store, StudyReader studies, ProjectionLag lag,
    IOptions<PrivacyOptions> privacy, IOptions<DashboardOptions> options, TimeProvider clock)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, (DashboardCalculator From, DashboardFigures Figures)> _figures = new();
    private volatile DashboardCalculator? _current;
    private readonly TimeZoneInfo _zone = options.Value.TimeZone is { Length: > 0 } id ? TimeZoneInfo.FindSystemTimeZoneById(id) : TimeZoneInfo.Local;

    public DateOnly Today() => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), _zone).DateTime);

    /// <summary>One clinic's figures from a view at most <see cref="DashboardOptions.MaxViewAge"/> old.</summary>
    public async Task<DashboardFigures> CurrentAsync(string clinic, CancellationToken cancellation)
    {
        var calculator = await ViewAsync(clock.GetUtcNow() - options.Value.MaxViewAge, cancellation);
        if (_figures.TryGetValue(clinic, out var cached) && cached.From == calculator) return cached.Figures;
        var figures = (await ComputeAsync(calculator, [clinic], cancellation))[0];
        _figures[clinic] = (calculator, figures);
        return figures;
    }

    /// <summary>Figures for several clinics from a view read after <paramref name="readAfter"/>:
    /// the publisher passes the moment the projections were seen past the changes it announces.</summary>
    public async Task<IReadOnlyList<DashboardFigures>> FreshAsync(IReadOnlyCollection<string> clinics, DateTimeOffset readAfter,
        CancellationToken cancellation)
    {
        var calculator = await ViewAsync(readAfter, cancellation);
        var figures = await ComputeAsync(calculator, clinics, cancellation);
        foreach (var f in figures) _figures[f.Clinic] = (calculator, f);
        return figures;
    }

    private async Task<IReadOnlyList<DashboardFigures>> ComputeAsync(DashboardCalculator calculator, IReadOnlyCollection<string> clinics,
        CancellationToken cancellation)
    {
        var today = Today();
        var recent = options.Value.RecentDays;
        var ids = clinics.SelectMany(c => Enumerable.Range(0, recent).Select(i => ClinicDay.IdFor(c, today.AddDays(-i)))).ToArray();
        await using var session = store.QuerySession();
        var days = (await session.LoadManyAsync<ClinicDay>(cancellation, ids)).ToLookup(d => d.Clinic);
        var now = clock.GetUtcNow();
        return clinics.Select(c => calculator.For(c, days[c].ToDictionary(d => d.Date, d => d.Sessions), today, now, recent)).ToList();
    }

    private async Task<DashboardCalculator> ViewAsync(DateTimeOffset readAfter, CancellationToken cancellation)
    {
        if (_current is { } current && current.View.ReadAt >= readAfter) return current;
        await _gate.WaitAsync(cancellation);
        try
        {
            if (_current is { } again && again.View.ReadAt >= readAfter) return again;
            var readAt = clock.GetUtcNow();
            var (cells, sequence) = await studies.CurrentAsync(cancellation);
            await using var session = store.QuerySession();
            var trajectories = await session.Query<ClinicTrajectory>().ToListAsync(cancellation);
            var status = await lag.ReadAsync(cancellation);
            return _current = new DashboardCalculator(new NetworkView(cells, sequence, trajectories.ToList(), status, readAt),
                privacy.Value.K);
        }
        finally
        {
            _gate.Release();
        }
    }
}

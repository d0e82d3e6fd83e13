using System.Collections.Concurrent;
using System.Data;
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

    /// <summary>How old a clinic's figures may be when a dashboard connects; connecting dashboards share them.</summary>
    public TimeSpan MaxViewAge { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How old the network-wide comparisons may be. They are read from every outcome cell,
    /// so they are refreshed on this interval rather than for every update.</summary>
    public TimeSpan NetworkRefresh { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Days of sessions the activity chart shows, ending today.</summary>
    public int RecentDays { get; set; } = 14;
}

/// <summary>Reads what the dashboards are computed from. A clinic's own read models are read
/// fresh for every update (a few cells, a curve, a fortnight of days). The network-wide part (every
/// outcome cell, which grows with the network) is read at most every
/// <see cref="DashboardOptions.NetworkRefresh"/> and shared by all clinics: the network moves
/// slowly, and an update then costs O(the clinic's cells), not O(all cells). Dashboards connecting
/// at once share one read per clinic.</summary>
public sealed class DashboardReader(IDocumentStore store, ProjectionLag lag,
    IOptions<PrivacyOptions> privacy, IOptions<DashboardOptions> options, TimeProvider clock)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile DashboardCalculator? _network;
    private readonly ConcurrentDictionary<string, DashboardFigures> _recent = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<DashboardFigures>>> _reading = new();
    private readonly TimeZoneInfo _zone = options.Value.TimeZone is { Length: > 0 } id ? TimeZoneInfo.FindSystemTimeZoneById(id) : TimeZoneInfo.Local;

    public DateOnly Today() => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), _zone).DateTime);

    /// <summary>One clinic's figures, at most <see cref="DashboardOptions.MaxViewAge"/> old.</summary>
    public async Task<DashboardFigures> CurrentAsync(string clinic, CancellationToken cancellation)
    {
        if (_recent.TryGetValue(clinic, out var recent) && recent.ComputedAt >= clock.GetUtcNow() - options.Value.MaxViewAge)
            return recent;
        var reading = _reading.GetOrAdd(clinic, c => new Lazy<Task<DashboardFigures>>(async () =>
        {
            try
            {
                return (await FreshAsync([c], CancellationToken.None))[0];
            }
            finally
            {
                _reading.TryRemove(c, out _);
            }
        }));
        return await reading.Value.WaitAsync(cancellation);
    }

    /// <summary>Figures for several clinics from their read models as they are now: the publisher
    /// calls it once the projections include the changes it announces.</summary>
    public async Task<IReadOnlyList<DashboardFigures>> FreshAsync(IReadOnlyCollection<string> clinics, CancellationToken cancellation)
    {
        var network = await NetworkAsync(cancellation);
        var views = await ClinicViewsAsync(clinics, cancellation);
        var today = Today();
        var now = clock.GetUtcNow();
        var figures = views.Select(v => network.For(v, today, now, options.Value.RecentDays)).ToList();
        foreach (var f in figures) _recent[f.Clinic] = f;
        return figures;
    }

    private async Task<IReadOnlyList<ClinicView>> ClinicViewsAsync(IReadOnlyCollection<string> clinics, CancellationToken cancellation)
    {
        var ids = clinics.ToArray();
        var today = Today();
        var dayIds = ids.SelectMany(c => Enumerable.Range(0, options.Value.RecentDays).Select(i => ClinicDay.IdFor(c, today.AddDays(-i)))).ToArray();

        // The cells and the sequence they include, in one snapshot, so the sequence stated is exact.
        await using var session = store.LightweightSession(IsolationLevel.RepeatableRead);
        await session.BeginTransactionAsync(cancellation);
        var cells = (await session.Query<OutcomeCell>().Where(c => c.Key.Clinic.IsOneOf(ids)).ToListAsync(cancellation)).ToLookup(c => c.Key.Clinic);
        var sequence = await OutcomesProjection.SequenceAsync(session, cancellation);
        var trajectories = (await session.LoadManyAsync<ClinicTrajectory>(cancellation, ids)).ToDictionary(t => t.Id);
        var days = (await session.LoadManyAsync<ClinicDay>(cancellation, dayIds)).ToLookup(d => d.Clinic);
        var status = await lag.ReadAsync(cancellation);

        return ids.Select(c => new ClinicView(c, [.. cells[c]], sequence, trajectories.GetValueOrDefault(c),
            days[c].ToDictionary(d => d.Date, d => d.Sessions), status)).ToList();
    }

    private async Task<DashboardCalculator> NetworkAsync(CancellationToken cancellation)
    {
        var readAfter = clock.GetUtcNow() - options.Value.NetworkRefresh;
        if (_network is { } current && current.View.ReadAt >= readAfter) return current;
        await _gate.WaitAsync(cancellation);
        try
        {
            if (_network is { } again && again.View.ReadAt >= readAfter) return again;
            var readAt = clock.GetUtcNow();
            await using var session = store.QuerySession();
            var cells = await session.Query<OutcomeCell>().ToListAsync(cancellation);
            var trajectories = await session.Query<ClinicTrajectory>().ToListAsync(cancellation);
            return _network = new DashboardCalculator(new NetworkView([.. cells], [.. trajectories], readAt), privacy.Value.K);
        }
        finally
        {
            _gate.Release();
        }
    }
}

using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

namespace MatOutcomes.Platform.Dashboard.Tracking;

/// <summary>Per-clinic activity for the live dashboard: sessions per day and pain through care.
/// Asynchronous like the outcome cells, so Wolverine places it on one node; single-tenanted
/// documents keyed by clinic, because a manager watches clinics, not tenants' sessions.</summary>
public sealed class ClinicActivityProjection : IProjection
{
    public const string Name = "clinic-activity";

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        if (events.Count == 0) return;

        var ids = events.Select(e => ActivityEpisode.IdFor(e.TenantId, e.StreamId)).Distinct().ToArray();
        var ledger = new ActivityLedger(await operations.LoadManyAsync<ActivityEpisode>(cancellation, ids));
        foreach (var e in events) ledger.Apply(e);

        var dayChanges = ledger.DayChanges();
        var days = (await operations.LoadManyAsync<ClinicDay>(cancellation,
                dayChanges.Keys.Select(k => ClinicDay.IdFor(k.Clinic, k.Date)).ToArray()))
            .ToDictionary(d => d.Id);
        foreach (var ((clinic, date), by) in dayChanges)
        {
            var id = ClinicDay.IdFor(clinic, date);
            var day = days.GetValueOrDefault(id) ?? new ClinicDay { Id = id, Clinic = clinic, Date = date };
            day.Sessions += by;
            if (day.Sessions == 0) operations.Delete<ClinicDay>(id);
            else operations.Store(day);
        }

        var trajectories = (await operations.LoadManyAsync<ClinicTrajectory>(cancellation, ledger.TouchedClinics.ToArray()))
            .ToDictionary(t => t.Id);
        foreach (var trajectory in ledger.ApplyTo(trajectories))
        {
            if (trajectory.IsEmpty) operations.Delete<ClinicTrajectory>(trajectory.Id);
            else operations.Store(trajectory);
        }
        foreach (var episode in ledger.Changed) operations.Store(episode);
    }
}

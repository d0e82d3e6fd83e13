using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Dashboard.Computing;
using MatOutcomes.Platform.Dashboard.Publishing;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace MatOutcomes.Platform.Dashboard.Watching;

/// <summary>What the server calls on a dashboard.</summary>
public interface IDashboardClient
{
    Task Figures(DashboardFigures figures);
}

/// <summary>The live dashboard's SignalR hub. A manager token names the clinics it may watch; a
/// connection joins a clinic's group only through <see cref="Watch"/>, which checks the token
/// first and answers with the clinic's current figures, so a dashboard has them at once and
/// updates follow.</summary>
[Authorize(Policy = Viewer)]
public sealed class DashboardHub(DashboardReader reader, DashboardWatchers watchers, DashboardMetrics metrics, ILogger<DashboardHub> log) : Hub<IDashboardClient>
{
    public const string Path = "/hubs/dashboard";
    public const string Viewer = "dashboard-viewer";

    /// <summary>The clinics the token names; an admin token names none and may watch any.</summary>
    public IReadOnlyList<string> Clinics() => [.. Context.User!.Clinics().Distinct().Order(StringComparer.Ordinal)];

    public async Task<DashboardFigures> Watch(string clinicId)
    {
        if (!ClinicIds.IsValid(clinicId))
            throw new HubException($"The clinic id is not valid: it {Contracts.Sync.Identifiers.ClinicIdRule}.");
        var user = Context.User!;
        if (!user.CanTouch(clinicId))
        {
            log.LogWarning("Dashboard connection {Connection} of {Subject} refused clinic {Clinic}",
                Context.ConnectionId, user.FindFirst("sub")?.Value, clinicId);
            throw new HubException($"This token may not watch clinic '{clinicId}'.");
        }
        watchers.Watch(Context.ConnectionId, clinicId);
        return await reader.CurrentAsync(clinicId, Context.ConnectionAborted);
    }

    public void Unwatch(string clinicId)
    {
        if (clinicId is not null) watchers.Unwatch(Context.ConnectionId, clinicId);
    }

    public override Task OnConnectedAsync()
    {
        metrics.Connected();
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        metrics.Disconnected();
        watchers.Disconnected(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}

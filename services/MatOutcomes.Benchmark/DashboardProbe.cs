using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Dashboard.Computing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace MatOutcomes.Benchmark;

/// <summary>A manager's dashboard on a real SignalR client, and a clinic that records one session at a
/// time: each probe times the sync API's acknowledgement of a session to the dashboard update that
/// counts it.</summary>
public sealed class DashboardProbe : IAsyncDisposable
{
    public const string Clinic = "bench-probe";
    private static readonly byte[] Secret = Simulator.Network.NetworkGenerator.SecretOf(Clinic);
    private readonly HubConnection _hub;
    private readonly HttpClient _clinic;
    private readonly Channel<(DashboardFigures Figures, long At)> _updates = Channel.CreateUnbounded<(DashboardFigures, long)>();
    private int _sessionsToday;
    private int _serial;

    private DashboardProbe(HubConnection hub, HttpClient clinic) => (_hub, _clinic) = (hub, clinic);

    public static async Task<DashboardProbe> OpenAsync(PlatformProcess platform, string managerToken, string clinicToken)
    {
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(new Uri(platform.Address), "hubs/dashboard"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(managerToken))
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(
                new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false)))
            .Build();
        var probe = new DashboardProbe(hub, platform.Client(clinicToken));
        hub.On<DashboardFigures>("Figures", f => probe._updates.Writer.TryWrite((f, Stopwatch.GetTimestamp())));
        await hub.StartAsync();
        probe._sessionsToday = (await hub.InvokeAsync<DashboardFigures>("Watch", Clinic)).Activity.SessionsToday;
        return probe;
    }

    /// <summary>Pushes one episode with a session today; returns acknowledgement → update, ms.</summary>
    public async Task<double> ProbeAsync(CancellationToken cancellation)
    {
        var today = DateOnly.FromDateTime(DateTime.Now);
        var serial = ++_serial;
        var opened = new EpisodeOpened(Pseudonyms.ForPatient(Secret, $"{serial:000000}"), today, ComplaintRegion.LowBack, null, 20, OccupationGroup.DeskStressful,
            AgeBand.From40To49, Sex.Female, 7, null, 40);
        var session = new SessionRecorded(today, Pseudonyms.ForPractitioner(Secret, "01"), SessionFormat.StandaloneMat, [Technique.MuscleLengthening], [ComplaintRegion.LowBack], 45, 7, 4);
        var batch = new PushBatch([new EpisodeUpload(Guid.NewGuid(), [EventEnvelope.For(Guid.NewGuid(), 1, opened), EventEnvelope.For(Guid.NewGuid(), 2, session)])]);

        using var response = await _clinic.PostAsJsonAsync($"api/clinics/{Clinic}/events", batch, ProtocolJson.Options, cancellation);
        var acknowledged = Stopwatch.GetTimestamp();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"probe push answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
        var expected = ++_sessionsToday;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            var (figures, at) = await _updates.Reader.ReadAsync(timeout.Token);
            if (figures.Activity.SessionsToday >= expected) return Stopwatch.GetElapsedTime(acknowledged, at).TotalMilliseconds;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync();
        _clinic.Dispose();
    }
}

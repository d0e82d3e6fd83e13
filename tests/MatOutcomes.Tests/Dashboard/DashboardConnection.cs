using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using MatOutcomes.Platform.Dashboard.Computing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>A .NET SignalR client on the dashboard hub, as a test watches it: every update it
/// receives is kept in order.</summary>
public sealed class DashboardConnection : IAsyncDisposable
{
    private readonly Channel<DashboardFigures> _updates = Channel.CreateUnbounded<DashboardFigures>();

    private DashboardConnection(HubConnection hub)
    {
        Hub = hub;
        hub.On<DashboardFigures>("Figures", f => _updates.Writer.TryWrite(f));
    }

    public HubConnection Hub { get; }
    public List<DashboardFigures> Received { get; } = [];

    public static HubConnection Build(Uri address, string? token, bool reconnect = false,
        HttpTransportType transport = HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling,
        bool skipNegotiation = false)
    {
        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri(address, "hubs/dashboard"), o =>
            {
                o.Transports = transport;
                o.SkipNegotiation = skipNegotiation;
                if (token is not null) o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            })
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(
                new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false)));
        if (reconnect) builder.WithAutomaticReconnect([TimeSpan.Zero, TimeSpan.FromMilliseconds(500), .. Enumerable.Repeat(TimeSpan.FromSeconds(1), 60)]);
        return builder.Build();
    }

    public static DashboardConnection Wrap(HubConnection hub) => new(hub);

    public static async Task<DashboardConnection> OpenAsync(Uri address, string token, bool reconnect = false)
    {
        var connection = new DashboardConnection(Build(address, token, reconnect));
        await connection.Hub.StartAsync();
        return connection;
    }

    public Task<DashboardFigures> WatchAsync(string clinic) => Hub.InvokeAsync<DashboardFigures>("Watch", clinic);

    /// <summary>Waits for the first update that satisfies <paramref name="until"/>; fails after <paramref name="within"/>.</summary>
    public async Task<DashboardFigures> NextAsync(Func<DashboardFigures, bool> until, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                var figures = await _updates.Reader.ReadAsync(timeout.Token);
                Received.Add(figures);
                if (until(figures)) return figures;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no matching dashboard update within {within}; received {Received.Count}: " +
                                       string.Join(", ", Received.Select(f => $"{f.Clinic} today={f.Activity.SessionsToday} seq={f.Sequence}")));
        }
    }

    /// <summary>Every update received in the next <paramref name="window"/>.</summary>
    public async Task<List<DashboardFigures>> CollectAsync(TimeSpan window)
    {
        using var timeout = new CancellationTokenSource(window);
        var collected = new List<DashboardFigures>();
        try
        {
            while (true) collected.Add(await _updates.Reader.ReadAsync(timeout.Token));
        }
        catch (OperationCanceledException)
        {
        }
        Received.AddRange(collected);
        return collected;
    }

    public async ValueTask DisposeAsync() => await Hub.DisposeAsync();
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MatOutcomes.Tests.Reliability;

/// <summary>A TCP relay between the platform and PostgreSQL that can lose one commit's answer: on a
/// connection that has carried <see cref="Arm"/>'s marker (a clinic id), it passes the COMMIT on to
/// the server and then drops the platform's side. The server commits; the platform cannot know
/// whether it did. That is the "outcome unknown" a clinic must answer by re-sending.</summary>
public sealed class CommitCutter : IAsyncDisposable
{
    /// <summary>The simple-query message Npgsql sends to commit: 'Q', length 11, "COMMIT", NUL.</summary>
    private static readonly byte[] Commit = [(byte)'Q', 0, 0, 0, 11, .. Encoding.ASCII.GetBytes("COMMIT"), 0];
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _serverPort;
    private readonly CancellationTokenSource _stop = new();
    private byte[]? _marker;
    private int _cuts;

    public CommitCutter(int serverPort)
    {
        _serverPort = serverPort;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>Cut the next commit on a connection that sent this text.</summary>
    public void Arm(string marker) => _marker = Encoding.UTF8.GetBytes(marker);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var server = new TcpClient();
        using (client)
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _serverPort);
                var muted = false;
                var fromServer = Task.Run(async () =>
                {
                    var answer = new byte[64 * 1024];
                    int n;
                    while ((n = await server.GetStream().ReadAsync(answer, _stop.Token)) > 0)
                        if (!Volatile.Read(ref muted)) await client.GetStream().WriteAsync(answer.AsMemory(0, n), _stop.Token);
                });
                var buffer = new byte[64 * 1024];
                var marked = false;
                while (true)
                {
                    var read = await client.GetStream().ReadAsync(buffer, _stop.Token);
                    if (read == 0) break;
                    if (_marker is { } marker && buffer.AsSpan(0, read).IndexOf(marker) >= 0) marked = true;
                    var commits = marked && _marker is not null && buffer.AsSpan(0, read).IndexOf(Commit) >= 0;
                    // Nothing the server answers from here on reaches the platform.
                    if (commits) Volatile.Write(ref muted, true);
                    await server.GetStream().WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                    if (commits)
                    {
                        _marker = null;
                        Interlocked.Increment(ref _cuts);
                        client.Client.LingerState = new LingerOption(true, 0);
                        client.Close();
                        await Task.Delay(2000);
                        return;
                    }
                }
                await fromServer;
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}

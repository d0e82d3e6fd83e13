using System.Diagnostics;
using System.Net.Http.Headers;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace MatOutcomes.Tests.Reliability;

/// <summary>The platform as the scripts run it: its build output started with <c>dotnet</c> as a
/// child process on a fixed port, so a test can SIGKILL it and start it again on the same address.</summary>
public sealed class ChildPlatform : IPlatform, IAsyncDisposable
{
    private static readonly string Dll = typeof(Program).Assembly.Location;
    private static readonly string Bin = Path.GetDirectoryName(Dll)!;

    private readonly string _connectionString;
    private readonly TokenIssuer _tokens;
    private readonly List<string> _output = [];
    private Process? _process;

    public ChildPlatform(string connectionString, int port)
    {
        _connectionString = connectionString;
        Address = new Uri($"http://127.0.0.1:{port}/");
        // The child reads the same development key from its appsettings.Development.json.
        var configuration = new ConfigurationBuilder().SetBasePath(Bin).AddJsonFile("appsettings.Development.json").Build();
        _tokens = new TokenIssuer(configuration, TimeProvider.System);
    }

    public Uri Address { get; }
    public CapturedLog Log { get; } = new();
    public int? ProcessId => _process?.Id;

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Tail(int lines = 40)
    {
        lock (_output) return string.Join("\n", _output.TakeLast(lines));
    }

    /// <summary>Starts the process and waits until it answers /health/live.</summary>
    public async Task StartAsync(TimeSpan? within = null)
    {
        var start = new ProcessStartInfo("dotnet", [Dll, "--urls", Address.ToString().TrimEnd('/'), "--contentRoot", Bin])
        {
            WorkingDirectory = Bin, RedirectStandardOutput = true, RedirectStandardError = true,
            Environment =
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["ConnectionStrings__Marten"] = _connectionString,
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
            },
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the platform exited ({_process.ExitCode}):\n{Tail()}");
            try
            {
                if ((await probe.GetAsync("health/live")).IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the platform did not start:\n{Tail()}");
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, connections dropped mid-transaction.</summary>
    public async Task KillAsync()
    {
        if (_process is not { HasExited: false } process) return;
        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync();
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Add(line);
            if (_output.Count > 400) _output.RemoveRange(0, 100);
        }
    }

    public string Token(string role, params string[] clinics) => _tokens.Mint("reliability", role, clinics, TimeSpan.FromHours(1));

    public HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}

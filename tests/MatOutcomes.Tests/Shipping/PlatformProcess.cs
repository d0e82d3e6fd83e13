using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.Logging;

namespace MatOutcomes.Tests.Shipping;

/// <summary>The platform as its scripts and a deployment run it: a separate <c>dotnet
/// MatOutcomes.Platform.dll</c> process from a build or publish output, configured only through
/// its command line and environment. Tokens come from the same dll's <c>token</c> command.</summary>
public sealed class PlatformProcess : IAsyncDisposable, IPlatform
{
    private readonly Process _process;
    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly ConcurrentDictionary<string, string> _tokens = new();
    private readonly ILogger _output;
    private readonly StreamWriter _log;
    private bool _closed;

    private PlatformProcess(Process process, string dll, IReadOnlyDictionary<string, string> environment, Uri address, string logFile)
    {
        (_process, _dll, _environment, Address, LogFile) = (process, dll, environment, address, logFile);
        _output = Log.CreateLogger("platform");
        _log = new StreamWriter(logFile) { AutoFlush = true };
    }

    public Uri Address { get; }
    public string LogFile { get; }
    public CapturedLog Log { get; } = new();
    public bool HasExited => _process.HasExited;

    /// <param name="logDirectory">where its output goes, as platform-{port}.log</param>
    /// <param name="contentRoot">--contentRoot, as the scripts pass it; null runs in
    /// <paramref name="workingDirectory"/> as a container does.</param>
    public static async Task<PlatformProcess> StartAsync(string dll, int port, IReadOnlyDictionary<string, string> environment,
        string logDirectory, string? contentRoot = null, string? workingDirectory = null)
    {
        var address = new Uri($"http://127.0.0.1:{port}/");
        string[] arguments = [dll, "--urls", address.ToString().TrimEnd('/'), .. contentRoot is null ? [] : new[] { "--contentRoot", contentRoot }];
        var start = Start(arguments, environment, workingDirectory ?? Path.GetDirectoryName(dll)!);
        var logFile = Path.Combine(logDirectory, $"platform-{port}.log");
        var process = new Process { StartInfo = start };
        var platform = new PlatformProcess(process, dll, environment, address, logFile);
        process.OutputDataReceived += (_, e) => platform.Line(e.Data);
        process.ErrorDataReceived += (_, e) => platform.Line(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await platform.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
            return platform;
        }
        catch
        {
            await platform.DisposeAsync();
            throw;
        }
    }

    /// <summary>Until /health/ready answers 200 with every projection running on some node.</summary>
    private async Task WaitUntilReadyAsync(TimeSpan within)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + within;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the platform exited ({_process.ExitCode}):\n{Tail()}");
            try
            {
                var response = await http.GetAsync("health/ready");
                last = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode && JsonDocument.Parse(last).RootElement.GetProperty("status").GetString() == "Healthy") return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the platform was not ready within {within}: {last}\n{Tail()}");
    }

    // Called on the process's reader threads, also after it exited: an exception here would end the test run.
    private void Line(string? line)
    {
        if (line is null) return;
        lock (_log)
            if (!_closed) _log.WriteLine(line);
        _output.LogWarning("{Line}", line);
    }

    public string Tail(int lines = 40) => string.Join("\n", Log.Lines.TakeLast(lines));

    /// <summary>Until the process has printed <paramref name="text"/>: its output reaches us on reader
    /// threads, which a loaded machine can leave a few seconds behind the process.</summary>
    public async Task<string> OutputContainingAsync(string text, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var output = Output();
            if (output.Contains(text, StringComparison.Ordinal) || DateTime.UtcNow > deadline) return output;
            await Task.Delay(100);
        }
    }

    /// <summary>Everything the process printed so far (its log file, which it is still writing).</summary>
    public string Output()
    {
        using var file = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(file).ReadToEnd();
    }

    public string Token(string role, params string[] clinics) => _tokens.GetOrAdd($"{role}:{string.Join(',', clinics)}", _ =>
    {
        string[] arguments = [_dll, "token", "--role", role, "--subject", "shipping-test", .. clinics.Length > 0 ? ["--clinic", .. clinics] : Array.Empty<string>(),
            "--contentRoot", Path.GetDirectoryName(_dll)!];
        using var command = Process.Start(Start(arguments, _environment, Path.GetDirectoryName(_dll)!))!;
        var output = command.StandardOutput.ReadToEnd();
        var error = command.StandardError.ReadToEnd();
        command.WaitForExit();
        Assert.True(command.ExitCode == 0, $"token command failed: {output}{error}");
        return output.Trim().Split('\n')[^1].Trim();
    });

    public HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Stops it as Ctrl+C or a container runtime does (SIGTERM), so it shuts down cleanly.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", $"{_process.Id}"])) await kill.WaitForExitAsync();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(wait.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_closed) return;
        try
        {
            await StopAsync();
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
        // Exited and its output read to the end; only then close the log.
        await _process.WaitForExitAsync();
        lock (_log)
        {
            _closed = true;
            _log.Dispose();
        }
        _process.Dispose();
    }

    private static ProcessStartInfo Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // Only what the test gives it: nothing of the test host's own environment decides its settings.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) ||
                                                              k.StartsWith("DOTNET_ENVIRONMENT", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return start;
    }
}

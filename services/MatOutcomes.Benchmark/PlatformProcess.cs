using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace MatOutcomes.Benchmark;

/// <summary>The platform as the scripts run it: its build output started as a child process on a
/// port of its own, pointed at the benchmark's database. Its memory is read from /proc.</summary>
public sealed class PlatformProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private PlatformProcess(Process process, string address, StreamWriter log) => (_process, Address, _log) = (process, address, log);

    public string Address { get; }
    public int Pid => _process.Id;
    public DateTime StartedAt { get; } = DateTime.UtcNow;

    public static string Dll(string bin) => Path.Combine(bin, "MatOutcomes.Platform.dll");

    public static ProcessStartInfo Command(string bin, string connectionString, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = bin };
        info.ArgumentList.Add(Dll(bin));
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.ArgumentList.Add("--contentRoot");
        info.ArgumentList.Add(bin);
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["ConnectionStrings__Marten"] = connectionString;
        // The benchmark is the only researcher: the per-token rate limit would measure itself.
        info.Environment["Gateway__RateLimit__PermitLimit"] = "100000000";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__MatOutcomes"] = "Information";
        return info;
    }

    /// <summary>The standalone rebuild (MatOutcomes.Rebuild) from its build output, on the same database.</summary>
    public static ProcessStartInfo RebuildCommand(string bin, string connectionString)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = bin };
        info.ArgumentList.Add(Path.Combine(bin, "MatOutcomes.Rebuild.dll"));
        info.Environment["ConnectionStrings__Marten"] = connectionString;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        return info;
    }

    public static async Task<PlatformProcess> StartAsync(string bin, string connectionString, int port, string logPath)
    {
        var address = $"http://127.0.0.1:{port}";
        var process = Process.Start(Command(bin, connectionString, ["--urls", address]))!;
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var platform = new PlatformProcess(process, address, log);
        await platform.WaitAsync("/health/live", TimeSpan.FromMinutes(2));
        return platform;
    }

    public async Task WaitAsync(string path, TimeSpan within)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the platform exited with {_process.ExitCode}; see its log");
            try
            {
                if ((await http.GetAsync(Address + path)).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Address}{path} did not answer");
            await Task.Delay(100);
        }
    }

    /// <summary>Resident and peak resident memory of the platform process, MB.</summary>
    public (double Rss, double Peak) Memory()
    {
        double Read(string field) => File.ReadLines($"/proc/{Pid}/status").Where(l => l.StartsWith(field, StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).First();
        return (Read("VmRSS:"), Read("VmHWM:"));
    }

    public HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(Address + "/"), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: a graceful stop, as an orchestrator would.
            Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30))) _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
        await _log.DisposeAsync();
    }

    /// <summary>Mints a development token with the platform's own <c>token</c> command.</summary>
    public static async Task<string> TokenAsync(string bin, string connectionString, string role, params string[] clinics)
    {
        var args = new List<string> { "token", "--role", role, "--subject", "benchmark" };
        if (clinics.Length > 0)
        {
            args.Add("--clinic");
            args.AddRange(clinics);
        }
        using var process = Process.Start(Command(bin, connectionString, args))!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException("token command failed: " + await process.StandardError.ReadToEndAsync());
        return output.Trim().Split('\n')[^1].Trim();
    }
}

using System.Diagnostics;

namespace MatOutcomes.Tests.Support;

/// <summary>A command as operators run it: a build output's dll through <c>dotnet</c>, from its own
/// folder, its database from the environment.</summary>
public static class CommandLine
{
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string dll, IEnumerable<string> arguments,
        string connectionString, TimeSpan within)
    {
        Assert.True(File.Exists(dll), $"{dll} not built");
        using var process = Process.Start(new ProcessStartInfo("dotnet", [dll, .. arguments])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)!,
            Environment = { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["ConnectionStrings__Marten"] = connectionString },
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(within), $"{Path.GetFileName(dll)} {string.Join(' ', arguments)} did not finish");
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }
}

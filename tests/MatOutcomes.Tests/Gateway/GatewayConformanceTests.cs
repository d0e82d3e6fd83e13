using System.Diagnostics;
using System.Text.Json;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Gateway;

/// <summary>graphql-http's GraphQL-over-HTTP server audits (npm, Gateway/Conformance), run by node
/// against the gateway on a real socket: every audit, MUST, SHOULD and MAY alike, has to pass.</summary>
public class GatewayConformanceTests(KestrelPlatform platform, ITestOutputHelper output) : IClassFixture<KestrelPlatform>
{
    private sealed record AuditResult(string Id, string Name, string Status, string? Reason, JsonElement? Response);

    [Fact]
    public async Task The_gateway_passes_every_graphql_over_http_audit()
    {
        var folder = Repository.PathTo("tests", "MatOutcomes.Tests", "Gateway", "Conformance");
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "graphql-http")),
            $"graphql-http is not installed in {folder}: the test project's build runs npm ci there (it needs npm).");

        using var node = Process.Start(new ProcessStartInfo("node", ["audit.mjs", new Uri(platform.BaseAddress, "/graphql").ToString(), platform.ResearcherToken()])
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        Assert.True(node.WaitForExit(TimeSpan.FromMinutes(2)), "the audit did not finish in 2 minutes");
        Assert.True(node.ExitCode == 0, await stderr);

        var results = JsonSerializer.Deserialize<List<AuditResult>>(await stdout, JsonSerializerOptions.Web)!;
        foreach (var result in results) output.WriteLine($"{result.Status,-6} {result.Id} {result.Name}");
        Assert.True(results.Count >= 50, $"only {results.Count} audits ran");
        var failed = results.Where(r => r.Status != "ok").Select(r => $"{r.Status} {r.Id} {r.Name}: {r.Reason} {r.Response}").ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));
    }
}

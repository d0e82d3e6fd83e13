using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace MatOutcomes.Benchmark;

/// <summary>The results as a table (figure beside its ceiling or floor from the same run) and as JSON.</summary>
public static class Report
{
    public static void Print(BenchmarkResults results)
    {
        foreach (var stage in results.Stages)
        {
            var table = new Table().Title($"[bold]{stage.Name}[/]: {stage.Events:N0} events, {stage.Episodes:N0} episodes, {stage.Cells:N0} non-empty fine cells, {results.Clinics} clinics")
                .AddColumns("figure", "measured", "beside (same run)", "ratio");
            var floor1 = stage.Queries["floor, 1 client"];
            var floor16 = stage.Queries["floor, 16 clients"];
            foreach (var (label, p) in stage.Queries.Where(q => !q.Key.StartsWith("floor", StringComparison.Ordinal)))
            {
                var floor = label.EndsWith("16 clients", StringComparison.Ordinal) ? floor16 : floor1;
                table.AddRow($"cohortComparison {label}", Ms(p), $"floor {{ __typename }}: {Ms(floor)}", $"{p.P99 / floor.P99:F1}× (p99)");
            }
            table.AddRow("distinct filters withheld", $"{stage.DistinctWithheldShare:P0}", "", "");
            table.AddRow("first query after a restart", $"{stage.FirstQueryAfterRestartMs:F0} ms", $"process start → healthy {stage.RestartToHealthySeconds:F1} s", "");
            table.AddRow("dashboard push (ack → Figures), idle", Ms(stage.DashboardIdle), $"first push of the process (cold) {stage.DashboardFirstPushMs:F0} ms", "");
            table.AddRow("dashboard push, while clinics sync", Ms(stage.DashboardWhileSyncing), "", "");
            table.AddRow("bulk sync through the API", $"{stage.BulkSyncEventsPerSecond:N0} events/s", $"bare Marten append of the same events {stage.BareAppendEventsPerSecond:N0}/s",
                $"{stage.BulkSyncEventsPerSecond / stage.BareAppendEventsPerSecond:F2}");
            table.AddRow("bulk sync, first burst of the process (cold)", $"{stage.ColdBulkSyncEventsPerSecond:N0} events/s", "",
                $"{stage.ColdBulkSyncEventsPerSecond / stage.BareAppendEventsPerSecond:F2}");
            table.AddRow("rebuild (MatOutcomes.Rebuild)", $"{stage.RebuildEventsPerSecond:N0} events/s", $"raw COPY read of mt_events (the whole table) {stage.CopyReadRowsPerSecond:N0} rows/s",
                $"{stage.RebuildEventsPerSecond / stage.CopyReadRowsPerSecond:F2}");
            table.AddRow("  of which rebuilding", $"{(stage.RebuildWorkSeconds is { } work ? $"{work:F1} s" : "?")} of {stage.RebuildProcessSeconds:F1} s",
                "the rest: .NET start, host, schema check", "");
            table.AddRow("  the platform's rebuild-outcomes (same code, in the web host)", $"{stage.InHostRebuildEventsPerSecond:N0} events/s ({stage.InHostRebuildProcessSeconds:F1} s)", "",
                $"{stage.InHostRebuildEventsPerSecond / stage.CopyReadRowsPerSecond:F2}");
            table.AddRow("  beside a raw COPY of the bodies alone (stricter; not the target's ceiling)", "",
                $"every event body in order, nothing else: {stage.BodiesCopyReadRowsPerSecond:N0} rows/s",
                $"{stage.RebuildEventsPerSecond / stage.BodiesCopyReadRowsPerSecond:F2}");
            table.AddRow("  beside a raw COPY of its own input (not the target's ceiling)", "",
                $"the 7 columns it reads, in its order: {stage.InputCopyReadRowsPerSecond:N0} rows/s",
                $"{stage.RebuildEventsPerSecond / stage.InputCopyReadRowsPerSecond:F2}");
            table.AddRow("loader (Marten append, projection running)", $"{stage.LoadEventsPerSecond:N0} events/s", $"projection caught up {stage.CatchUpSeconds:F1} s after", "");
            table.AddRow("cutting a release (decide every grid, store its cells)", $"{stage.ReleaseCutSeconds:F1} s", "", "");
            table.AddRow("platform RSS", $"{stage.RssMb:F0} MB", $"peak {stage.PeakRssMb:F0} MB", "");
            AnsiConsole.Write(table);
        }

        var targets = new Table().Title("[bold]Targets[/]").AddColumns("figure", "target", "measured", "met");
        foreach (var t in results.Targets)
            targets.AddRow(t.Figure, t.Rule, t.Value.ToString("G4", CultureInfo.InvariantCulture), t.Met ? "[green]yes[/]" : "[red]no[/]");
        AnsiConsole.Write(targets);
    }

    private static string Ms(Percentiles p) =>
        $"p50 {p.P50:F1} ms, p99 {p.P99:F1} ms ({p.Count}, {p.PerSecond:F0}/s)";

    public static void Write(BenchmarkResults results, string path)
    {
        File.WriteAllText(path, JsonSerializer.Serialize(results, new JsonSerializerOptions
        {
            WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        }));
        AnsiConsole.MarkupLine($"Results written to [bold]{Path.GetFullPath(path)}[/]");
    }
}

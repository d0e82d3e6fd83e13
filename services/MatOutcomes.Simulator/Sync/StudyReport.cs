using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Spectre.Console;

namespace MatOutcomes.Simulator.Sync;

/// <summary>Asks the platform the network's question once the data is in — does early treatment
/// do better than chronic? — and prints the answer as a researcher would read it.</summary>
public static class StudyReport
{
    public static async Task PrintAsync(HttpClient client, CancellationToken cancellation)
    {
        // Research figures come from releases: an admin token cuts one of what is now in, as the
        // network's data office would after a sync (a researcher's token reads the latest release).
        using (var cut = await client.PostAsync("api/releases", null, cancellation))
            if (cut.IsSuccessStatusCode && await cut.Content.ReadFromJsonAsync<JsonElement>(cancellation) is var release)
                AnsiConsole.MarkupLine($"Cut release [bold]{release.GetProperty("number")}[/] at event #{release.GetProperty("sequence")}: " +
                                       "discharged episodes of closed quarters, as researchers will see them.");
        using var response = await client.PostAsJsonAsync("api/studies/cohort-comparison", new { }, cancellation);
        if (!response.IsSuccessStatusCode)
        {
            AnsiConsole.MarkupLine($"[red]cohort comparison: {(int)response.StatusCode}[/]");
            return;
        }
        using var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellation));
        var root = result.RootElement;
        // A small network's answer is withheld whole (k-anonymity), or cohort by cohort.
        if (Suppressed(root))
        {
            var reason = root.TryGetProperty("suppressionReason", out var why) ? why.GetString() : "too few patients";
            AnsiConsole.WriteLine($"The early-versus-chronic study is withheld: {reason}");
            return;
        }

        var table = new Table().Title(Markup.Escape($"Early (< 12 weeks) versus chronic pain, discharged episodes (events through #{root.GetProperty("sequence")})"))
            .AddColumns("cohort", "patients", "durable NPRS change", "responders", "median sessions to MCID", "immediate relief");
        foreach (var cohort in new[] { "acute", "subacute", "early", "chronic" })
        {
            var c = root.GetProperty(cohort);
            string[] row = Suppressed(c)
                ? [cohort, .. Enumerable.Repeat("suppressed", 5)]
                : [cohort, c.GetProperty("patients").ToString(), Mean(c.GetProperty("durableNprsChange")),
                    Proportion(c.GetProperty("nprsResponders")), Median(c.GetProperty("sessionsToMcid")), Mean(c.GetProperty("immediateRelief"))];
            table.AddRow(row.Select(cell => new Text(cell)));
        }
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine($"early − chronic, raw:           {Interval(root.GetProperty("durableChangeDifference"))} NPRS points");
        AnsiConsole.WriteLine($"early − chronic, risk-adjusted: {Interval(root.GetProperty("adjustedDurableChangeDifference"))} NPRS points " +
                               "(baseline NPRS, region, age band, sex, occupation)");
        AnsiConsole.WriteLine($"responder risk difference:      {Interval(root.GetProperty("responderRiskDifference"))}");
    }

    private static string F(JsonElement e, string name, string format = "F2") =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble().ToString(format, CultureInfo.InvariantCulture) : "–";

    private static bool Suppressed(JsonElement e) => e.TryGetProperty("suppressed", out var s) && s.GetBoolean();

    private static string Mean(JsonElement e) => Suppressed(e) ? "suppressed" : $"{F(e, "mean")} [{F(e, "lower")}, {F(e, "upper")}]";

    private static string Proportion(JsonElement e) =>
        Suppressed(e) ? "suppressed" : $"{F(e, "proportion", "P0")} [{F(e, "lower", "P0")}, {F(e, "upper", "P0")}]";

    private static string Median(JsonElement e) =>
        Suppressed(e) ? "suppressed" : $"{F(e, "medianSessions", "F0")} [{F(e, "medianLower", "F0")}, {F(e, "medianUpper", "F0")}]";

    private static string Interval(JsonElement e) =>
        Suppressed(e) ? "suppressed" : $"{F(e, "estimate")} [{F(e, "lower")}, {F(e, "upper")}]";
}

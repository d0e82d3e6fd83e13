using System.Text.Json;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>Figures a measuring test reports: printed to the test output and written as JSON under
/// the test output folder (measurements/*.json). Sizes come from environment variables so the
/// default run stays short and a measuring run can go large.</summary>
public static class Measurements
{
    public static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) && value > 0 ? value : fallback;

    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    public static string Save(string name, object figures)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "measurements");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".json");
        File.WriteAllText(path, JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}

using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using MatOutcomes.Contracts;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Studying;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Support;
using Xunit.Abstractions;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>Runs only with MATOUTCOMES_FIGURES=1: a measurement for the README, not a check.</summary>
public sealed class FiguresFactAttribute : FactAttribute
{
    public FiguresFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("MATOUTCOMES_FIGURES") != "1")
            Skip = "A measurement: set MATOUTCOMES_FIGURES=1 to run it.";
    }
}

/// <summary>The two inferences and the two estimators side by side on the simulator's networks (the
/// test network and the demo's), pushed over HTTP and served from real PostgreSQL; asserts nothing.</summary>
public class NetworkFiguresReport(ITestOutputHelper output)
{
    /// <summary>The test network (null options) or another.</summary>
    private sealed class Network(NetworkOptions? options) : NetworkFixture
    {
        protected override NetworkOptions Options => options ?? base.Options;

        public NetworkOptions Used => Options;
    }

    [FiguresFact]
    public async Task Classical_beside_cluster_robust_and_iptw_beside_regression_on_the_simulators_networks()
    {
        var report = new StringBuilder();
        foreach (var (label, chosen) in new[]
                 {
                     ("test network (NetworkFixture)", null),
                     ("demo network (simulator defaults, seed 42)", new NetworkOptions { Today = new DateOnly(2026, 11, 1) }),
                 })
        {
            var network = new Network(chosen);
            var options = network.Used;
            await network.InitializeAsync();
            try
            {
                using var client = network.Client(network.Token(Roles.Researcher));
                var response = await client.PostAsJsonAsync("/api/studies/cohort-comparison", new StudyQuery(), ProtocolJson.Options);
                response.EnsureSuccessStatusCode();
                var c = (await response.Content.ReadFromJsonAsync<CohortComparison>(ProtocolJson.Options))!;
                var w = c.PropensityWeighted;
                report.AppendLine($"{label}: {options.Clinics} clinics, {options.Episodes} episodes, seed {options.Seed}; discharged, early < 12 weeks");
                report.AppendLine($"  episodes early / chronic: {c.Early.Episodes} / {c.Chronic.Episodes}");
                report.AppendLine($"  raw durable change, Welch:            {Ci(c.DurableChangeDifference.Estimate, c.DurableChangeDifference.Lower, c.DurableChangeDifference.Upper)}");
                Adjusted("regression, durable change", c.AdjustedDurableChangeDifference);
                Adjusted("IPTW, durable change", w.DurableChange);
                Adjusted("regression, responders (LPM)", c.AdjustedResponderDifference);
                Adjusted("IPTW, responders", w.Responders);
                report.AppendLine($"  raw responder risk difference:        {Ci(c.ResponderRiskDifference.Estimate, c.ResponderRiskDifference.Lower, c.ResponderRiskDifference.Upper)}");
                report.AppendLine($"  at discharge, Welch:                  {Ci(c.AtDischargeDifference.NprsChange.Estimate, c.AtDischargeDifference.NprsChange.Lower, c.AtDischargeDifference.NprsChange.Upper)}" +
                                  $" (n {c.Early.AtDischarge.NprsChange.N} + {c.Chronic.AtDischarge.NprsChange.N})");
                report.AppendLine($"  at follow-up, Welch:                  {Ci(c.AtFollowUpDifference.NprsChange.Estimate, c.AtFollowUpDifference.NprsChange.Lower, c.AtFollowUpDifference.NprsChange.Upper)}" +
                                  $" (n {c.Early.AtFollowUp.NprsChange.N} + {c.Chronic.AtFollowUp.NprsChange.N}, weeks median {c.Early.AtFollowUp.WeeksAfterDischarge?.Median})");
                report.AppendLine($"  IPTW weights: early mean {F(w.Early.MeanWeight)}, effective {F(w.Early.EffectiveEpisodes, "F0")}; " +
                                  $"chronic mean {F(w.Chronic.MeanWeight)}, effective {F(w.Chronic.EffectiveEpisodes, "F0")}; {w.Parameters} propensity parameters");
                var shown = w.Balance.Where(b => !b.Suppressed).ToList();
                var worst = shown.MaxBy(b => Math.Abs(b.SmdBefore ?? 0))!;
                report.AppendLine($"  balance: max |SMD| before {shown.Max(b => Math.Abs(b.SmdBefore ?? 0)):F3} ({worst.Covariate} {worst.Level}), " +
                                  $"after {shown.Max(b => Math.Abs(b.SmdAfter ?? 0)):F3}; {w.Balance.Count(b => b.Suppressed)} rows withheld");
                report.AppendLine($"  median sessions to MCID early / chronic: {F(c.Early.SessionsToMcid.MedianSessions)} [{F(c.Early.SessionsToMcid.MedianLower)}, {F(c.Early.SessionsToMcid.MedianUpper)}] / " +
                                  $"{F(c.Chronic.SessionsToMcid.MedianSessions)} [{F(c.Chronic.SessionsToMcid.MedianLower)}, {F(c.Chronic.SessionsToMcid.MedianUpper)}] (step {c.Early.SessionsToMcid.MedianSessionsStep} / {c.Chronic.SessionsToMcid.MedianSessionsStep})");
            }
            finally
            {
                await network.DisposeAsync();
            }
        }

        output.WriteLine(report.ToString());
        var file = Path.Combine(AppContext.BaseDirectory, "benchmarks", "network-figures.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, report.ToString());
        output.WriteLine($"written to {file}");

        void Adjusted(string what, AdjustedEstimate a) =>
            report.AppendLine($"  {what + ":",-37} {F(a.Estimate, "F3")}; classical {Ci(null, a.Classical.Lower, a.Classical.Upper)} (SE {F(a.Classical.StandardError, "F3")}); " +
                              $"cluster-robust {Ci(null, a.ClusterRobust.Lower, a.ClusterRobust.Upper)} (SE {F(a.ClusterRobust.StandardError, "F3")}, {a.ClusterRobust.Clusters} clinics, " +
                              $"df {a.ClusterRobust.DegreesOfFreedom}); headline {a.Inference}");
    }

    private static string F(double? value, string format = "F2") => value?.ToString(format, CultureInfo.InvariantCulture) ?? "–";

    private static string Ci(double? estimate, double? lower, double? upper) =>
        (estimate is null ? "" : F(estimate, "F3") + " ") + $"[{F(lower, "F3")}, {F(upper, "F3")}]";
}

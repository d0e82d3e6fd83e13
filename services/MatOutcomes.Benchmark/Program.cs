using System.CommandLine;
using MatOutcomes.Benchmark;

var quick = new Option<bool>("--quick") { Description = "100k events only (a smoke run of a few minutes)" };
var clinics = new Option<int>("--clinics") { Description = "Clinics in the simulated network", DefaultValueFactory = _ => 200 };
var platform = new Option<string>("--platform") { Description = "The platform's build output folder", Required = true };
var rebuild = new Option<string>("--rebuild") { Description = "The standalone rebuild's (MatOutcomes.Rebuild) build output folder", Required = true };
var json = new Option<string>("--json") { Description = "Where to write the results as JSON", DefaultValueFactory = _ => "benchmark-results.json" };
var port = new Option<int>("--port") { Description = "Port for the platform", DefaultValueFactory = _ => 5095 };
var keep = new Option<bool>("--keep") { Description = "Keep the cluster's folder after the run (to profile the loaded store)" };

var root = new RootCommand("Benchmarks the platform at the sizes a network reaches: 100k and 1M events, each figure beside a ceiling measured in the same run")
{
    quick, clinics, platform, rebuild, json, port, keep,
};
root.SetAction(async (parse, cancellation) =>
{
    var options = new BenchmarkOptions(parse.GetValue(platform)!, parse.GetValue(rebuild)!, parse.GetValue(clinics), parse.GetValue(quick), parse.GetValue(json)!, parse.GetValue(port), parse.GetValue(keep));
    var results = await new BenchmarkRun(options).RunAsync(cancellation);
    Report.Print(results);
    Report.Write(results, options.JsonPath);
    return results.Targets.All(t => t.Met) ? 0 : 2;
});
return await root.Parse(args).InvokeAsync();

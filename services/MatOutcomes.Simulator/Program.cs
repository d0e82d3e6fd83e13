using System.CommandLine;
using System.Net.Http.Headers;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Simulator.Sync;
using Spectre.Console;

var url = new Option<string>("--url") { Description = "The platform's base address", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
var token = new Option<string>("--token") { Description = "A clinic JWT naming every simulated clinic (or MATOUTCOMES_TOKEN)" };
var clinics = new Option<int>("--clinics") { Description = "Clinics in the network", DefaultValueFactory = _ => 8 };
var episodes = new Option<int>("--episodes") { Description = "Episodes of care across the network", DefaultValueFactory = _ => 3000 };
var offline = new Option<double>("--offline-share") { Description = "Share of clinics that sync late, in batches", DefaultValueFactory = _ => 0.25 };
var months = new Option<int>("--months") { Description = "History to simulate, ending today", DefaultValueFactory = _ => 18 };
var adminToken = new Option<string>("--watch-lag-token") { Description = "An admin or researcher JWT: sample the outcome projection's lag during the run, then print the early-versus-chronic study" };
var bulk = new Option<bool>("--bulk") { Description = "Push each clinic's whole history at once in full batches, clinics in parallel: the ingest ceiling, not a clinic's day" };
var seed = new Option<int>("--seed") { Description = "Random seed: the same seed gives the same network", DefaultValueFactory = _ => 42 };
var state = new Option<string>("--state") { Description = "A file recording how far the run got: a run stopped for any reason, started again with the same options, resumes from there" };

var root = new RootCommand("Simulates a network of MAT clinics syncing episodes of care to MatOutcomes over HTTP.")
{
    url, token, clinics, episodes, offline, months, seed, adminToken, bulk, state,
};
root.SetAction(async (parse, cancellation) =>
{
    var jwt = parse.GetValue(token) ?? Environment.GetEnvironmentVariable("MATOUTCOMES_TOKEN");
    if (string.IsNullOrEmpty(jwt))
    {
        AnsiConsole.MarkupLine("[red]--token (or MATOUTCOMES_TOKEN) is required: mint one with the platform's `token` command.[/]");
        return 2;
    }

    var options = new NetworkOptions
    {
        Clinics = parse.GetValue(clinics), Episodes = parse.GetValue(episodes), OfflineShare = parse.GetValue(offline),
        Months = parse.GetValue(months), Seed = parse.GetValue(seed),
    };
    var network = NetworkGenerator.Generate(options);
    AnsiConsole.MarkupLine($"Simulating [bold]{network.Clinics.Count}[/] clinics ({network.Clinics.Count(c => c.Offline)} offline), " +
                           $"[bold]{network.Episodes.Count()}[/] episodes, [bold]{network.EventCount}[/] events over {options.Months} months.");

    using var http = new HttpClient { BaseAddress = new Uri(parse.GetValue(url)!.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
    var stateFile = parse.GetValue(state);
    var daysDone = stateFile is not null && File.Exists(stateFile) && int.TryParse(File.ReadAllText(stateFile).Trim(), out var done) ? done : 0;
    if (daysDone > 0) AnsiConsole.MarkupLine($"Resuming after {daysDone} push days already acknowledged ({Markup.Escape(stateFile!)}).");
    var runOptions = (parse.GetValue(bulk)
        ? new SyncRunOptions { OnlineWindowDays = 100_000, OfflineWindowDays = 100_000, LostAckRate = 0 }
        : new SyncRunOptions()) with
    {
        DaysDone = daysDone,
        DayDone = stateFile is null ? null : days => File.WriteAllText(stateFile, days.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    };
    var runner = new SyncRunner(_ => http, runOptions);

    using var watcherClient = new HttpClient { BaseAddress = http.BaseAddress };
    LagWatcher? watcher = null;
    using var stopWatching = new CancellationTokenSource();
    var watching = Task.CompletedTask;
    if (parse.GetValue(adminToken) is { Length: > 0 } lagJwt)
    {
        watcherClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", lagJwt);
        watcher = new LagWatcher(watcherClient);
        watching = watcher.WatchAsync(stopWatching.Token);
    }

    SyncReport report = null!;
    await AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .StartAsync(async context =>
        {
            var task = context.AddTask("events synced", maxValue: network.EventCount);
            report = await runner.RunAsync(network, new Progress<long>(n => task.Value = n), cancellation);
            task.Value = network.EventCount;
        });

    await stopWatching.CancelAsync();
    await watching;
    var lag = watcher is null ? null : await watcher.FinishAsync(TimeSpan.FromMinutes(2));

    var table = new Table().AddColumns("measure", "value");
    table.AddRow("pushes (incl. re-sends)", $"{report.Pushes}");
    table.AddRow("re-sent after a lost ack", $"{report.Resends}");
    table.AddRow("retries after failures", $"{report.Retries}");
    table.AddRow("events appended", $"{report.EventsAppended}");
    table.AddRow("duplicates acknowledged", $"{report.Duplicates}");
    table.AddRow("conflicts / gaps", $"{report.Conflicts} / {report.Gaps}");
    table.AddRow("refused pushes", $"{report.Refusals.Count}");
    table.AddRow("elapsed", $"{report.Elapsed.TotalSeconds:F1} s");
    table.AddRow("sync throughput", $"{report.EventsPerSecond:F0} events/s");
    if (lag is not null)
    {
        table.AddRow("projection lag during load (p50 / p99 / max)", $"{lag.P50} / {lag.P99} / {lag.Max} events ({lag.Samples} samples)");
        table.AddRow("projection caught up after the last push", lag.CaughtUpAfterLoad is { } t ? $"{t.TotalSeconds:F1} s" : "not within 2 min");
    }
    AnsiConsole.Write(table);
    foreach (var refusal in report.Refusals.Take(5)) AnsiConsole.WriteLine(refusal);
    if (lag?.CaughtUpAfterLoad is not null)
    {
        try
        {
            await StudyReport.PrintAsync(watcherClient, cancellation);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Everything is synced; the study is a courtesy and may be asked for again later.
            AnsiConsole.MarkupLine($"[yellow]The study could not be fetched just now ({Markup.Escape(e.Message)}).[/]");
        }
    }

    // A re-run with the same seed finds everything already stored: that is success too.
    var complete = report.Refusals.Count == 0 && report.Conflicts == 0 && report.Gaps == 0;
    AnsiConsole.MarkupLine(complete
        ? $"[green]Every simulated event is stored exactly once ({report.EventsAppended} new, the rest already there).[/]"
        : "[red]Some pushes were refused or conflicted; see above.[/]");
    return complete ? 0 : 1;
});

return await root.Parse(args).InvokeAsync();

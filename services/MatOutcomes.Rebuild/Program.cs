using System.CommandLine;
using Marten;
using MatOutcomes.Platform.Outcomes;
using MatOutcomes.Platform.Outcomes.Rebuilding;
using MatOutcomes.Platform.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The platform's `rebuild-outcomes` as a batch tool of its own: the same one-pass rebuild, on a host
// with only the event store (no web host, Wolverine or cube) and with the runtime settings of a
// short batch rather than of a long-lived server (see the project file).
var cellsPerFlush = new Option<int>("--cells-per-flush")
{
    Description = "Write the cells once at least this many are final; fewer holds less in memory",
    DefaultValueFactory = _ => OutcomesRebuild.CellsPerFlush,
};
cellsPerFlush.Validators.Add(result =>
{
    if (result.GetValue(cellsPerFlush) < 1) result.AddError("--cells-per-flush must be at least 1");
});
var root = new RootCommand(
    "Rebuilds the outcome read models from the event log in one pass (run with the platform stopped). " +
    "The database is ConnectionStrings:Marten (e.g. the ConnectionStrings__Marten variable), else the platform's embedded default.")
{
    cellsPerFlush,
};
root.SetAction(async (parse, cancellation) =>
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
    builder.Services.AddSingleton<PostgresServer>();
    builder.Services.AddMarten(services =>
    {
        var options = new StoreOptions();
        EventStoreExtensions.ConfigureEvents(options, services.GetRequiredService<PostgresServer>().ConnectionString);
        OutcomesModule.ConfigureReadModels(options);
        return options;
    });
    using var host = builder.Build();
    var store = host.Services.GetRequiredService<IDocumentStore>();
    await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
    var result = await OutcomesRebuild.RunAsync(store, cancellation, parse.GetValue(cellsPerFlush));
    Console.WriteLine(result.Describe());
    return 0;
});
return await root.Parse(args).InvokeAsync();

using JasperFx;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Gateway;
using MatOutcomes.Platform.Dashboard;
using MatOutcomes.Platform.Outcomes;
using MatOutcomes.Platform.ServiceDefaults;
using MatOutcomes.Platform.Storage;
using MatOutcomes.Platform.Sync;

[assembly: JasperFxAssembly]

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPlatformAuth();
builder.AddEventStore();
builder.AddOutcomes();
builder.AddGateway();
builder.AddDashboard();

var app = builder.Build();
app.UseServiceDefaults();
app.UseAuthentication();
app.UseAuthorization();
app.MapSync();
app.MapOutcomes();
app.MapGateway();
app.MapDashboard();

// `run` (the default) serves; `token`, `codegen`, `db-apply`, `projections` ... are JasperFx commands.
return await app.RunJasperFxCommands(args);

public partial class Program;

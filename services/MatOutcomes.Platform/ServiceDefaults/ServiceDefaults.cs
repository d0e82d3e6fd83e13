using HealthChecks.UI.Client;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MatOutcomes.Platform.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>Problem details, health, and OpenTelemetry traces and metrics from ASP.NET Core,
    /// HttpClient, Npgsql, Marten, Wolverine and the platform itself. Exporters by configuration:
    /// <c>Telemetry:Exporter</c> = <c>otlp</c> (standard OTEL_EXPORTER_OTLP_* variables),
    /// <c>console</c>, or <c>none</c> (default).</summary>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            // In development a 500 says what failed; elsewhere it says nothing beyond the trace id.
            if (development && context.HttpContext.Features.Get<IExceptionHandlerFeature>()?.Error is { } error)
                context.ProblemDetails.Extensions["exception"] = $"{error.GetType().Name}: {error.Message}";
        });
        // Responses speak the protocol's JSON dialect (kebab-case enums, no nulls).
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        builder.Services.AddExceptionHandler<DatabaseOutage>();
        builder.Services.AddExceptionHandler<BadRequests>();
        builder.Services.AddHealthChecks();
        builder.Services.AddSingleton<PlatformTelemetry>();

        var exporter = builder.Configuration["Telemetry:Exporter"]?.ToLowerInvariant() ?? "none";
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("matoutcomes", serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId))
            .WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddNpgsql()
                    .AddSource("Marten", "Wolverine", PlatformTelemetry.Name);
                if (exporter == "otlp") tracing.AddOtlpExporter();
                if (exporter == "console") tracing.AddConsoleExporter();
            })
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter("Marten", "Wolverine*", "Npgsql", PlatformTelemetry.Name);
                if (exporter == "otlp") metrics.AddOtlpExporter();
                if (exporter == "console") metrics.AddConsoleExporter();
            });
        return builder;
    }

    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // Liveness runs no check: a process that answers is alive, whatever its database does.
        app.MapHealthChecks(Health.Live, new HealthCheckOptions { Predicate = _ => false });
        var readiness = new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Health.ReadyTag),
            ResponseWriter = UIResponseWriter.WriteHealthCheckUIResponse,
        };
        app.MapHealthChecks(Health.Ready, readiness);
        // The scripts wait on /health: it means "ready".
        app.MapHealthChecks(Health.Path, readiness);
        return app;
    }
}

/// <summary>Health endpoints: <c>/health/live</c> (the process answers; 200 always) and
/// <c>/health/ready</c> = <c>/health</c> (every check tagged <see cref="ReadyTag"/>: 503 when one
/// is Unhealthy, 200 with the details in a JSON body otherwise).</summary>
public static class Health
{
    public const string Path = "/health";
    public const string Live = "/health/live";
    public const string Ready = "/health/ready";
    public const string ReadyTag = "ready";
}

using System.Text.Json;
using System.Text.Json.Serialization;
using JasperFx.Events.Projections;
using Marten;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Dashboard.Computing;
using MatOutcomes.Platform.Dashboard.Publishing;
using MatOutcomes.Platform.Dashboard.Tracking;
using MatOutcomes.Platform.Dashboard.Viewing;
using MatOutcomes.Platform.Dashboard.Watching;
using MatOutcomes.Platform.Outcomes.Projecting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using StackExchange.Redis;

namespace MatOutcomes.Platform.Dashboard;

/// <summary>The managers' live dashboard: a per-clinic activity projection, a subscription that
/// notes changed clinics, a publisher that coalesces them into SignalR updates, the hub, and the
/// page. <c>SignalR:Redis</c> (a StackExchange.Redis connection string) turns on the Redis
/// backplane so every node's dashboards get every update.</summary>
public static class DashboardModule
{
    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<DashboardOptions>(builder.Configuration.GetSection("Dashboard"));
        builder.Services.AddSingleton<DashboardChangeFeed>();
        builder.Services.AddSingleton<DashboardChanges>();
        builder.Services.AddSingleton<DashboardReader>();
        builder.Services.AddSingleton<DashboardMetrics>();
        builder.Services.AddHostedService<DashboardPublisher>();

        builder.Services.ConfigureMarten((services, options) =>
        {
            options.Projections.Add(new ClinicActivityProjection(), ProjectionLifecycle.Async, ClinicActivityProjection.Name, async =>
            {
                async.DeleteViewTypeOnTeardown<ClinicDay>();
                async.DeleteViewTypeOnTeardown<ClinicTrajectory>();
                async.DeleteViewTypeOnTeardown<ActivityEpisode>();
            });
            options.Schema.For<ClinicDay>().SingleTenanted();
            options.Schema.For<ClinicTrajectory>().SingleTenanted();
            options.Schema.For<ActivityEpisode>().SingleTenanted();
            options.Projections.Subscribe(services.GetRequiredService<DashboardChanges>());
            // An update reads only the changed clinics' outcome cells.
            options.Schema.For<OutcomeCell>().Index(c => c.Key.Clinic);
        });

        var signalR = builder.Services.AddSignalR()
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(
                new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false)));
        if (builder.Configuration["SignalR:Redis"] is { Length: > 0 } redis)
            signalR.AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = RedisChannel.Literal("matoutcomes"));

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(DashboardHub.Viewer, p => p.RequireRole(Roles.Manager, Roles.Admin));

        // Browsers cannot put headers on a WebSocket, so the hub alone also takes the token from
        // the access_token query string. The platform's other handlers (OnChallenge) stay as they are.
        builder.Services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
        {
            options.Events ??= new JwtBearerEvents();
            var next = options.Events.OnMessageReceived;
            options.Events.OnMessageReceived = context =>
            {
                if (context.HttpContext.Request.Path.StartsWithSegments(DashboardHub.Path) &&
                    context.Request.Query["access_token"] is [{ Length: > 0 } token])
                    context.Token = token;
                return next(context);
            };
        });
        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseStaticFiles();
        app.MapHub<DashboardHub>(DashboardHub.Path, o => o.CloseOnAuthenticationExpiration = true);
        app.MapDashboardPage();
        return app;
    }
}

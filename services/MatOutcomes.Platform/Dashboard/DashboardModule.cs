using System.Text.Json;
using System.Text.Json.Serialization;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Dashboard.Computing;
using MatOutcomes.Platform.Dashboard.Publishing;
using MatOutcomes.Platform.Dashboard.Viewing;
using MatOutcomes.Platform.Dashboard.Watching;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using StackExchange.Redis;

namespace MatOutcomes.Platform.Dashboard;

/// <summary>The managers' live dashboard: a publisher that turns the cube's changes into coalesced
/// SignalR updates for the clinics this node's dashboards watch, the hub, and the page.
/// <c>SignalR:Redis</c> (a StackExchange.Redis connection string) turns on the Redis backplane for
/// hub messages across nodes; dashboard updates do not need it (each node sends its own).</summary>
public static class DashboardModule
{
    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<DashboardOptions>(builder.Configuration.GetSection("Dashboard"));
        builder.Services.AddSingleton<DashboardWatchers>();
        builder.Services.AddSingleton<DashboardReader>();
        builder.Services.AddSingleton<DashboardMetrics>();
        builder.Services.AddHostedService<DashboardPublisher>();

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

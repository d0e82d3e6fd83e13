using GraphQL;
using Marten;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Gateway.Auditing;
using MatOutcomes.Platform.Gateway.Http;
using MatOutcomes.Platform.Gateway.Ide;
using MatOutcomes.Platform.Gateway.Limits;
using MatOutcomes.Platform.Gateway.Reading;
using MatOutcomes.Platform.Gateway.SavingStudies;
using MatOutcomes.Platform.Gateway.Schema;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Gateway;

/// <summary>Limits of the researchers' GraphQL gateway (configuration section <c>Gateway</c>).</summary>
public sealed class GatewayOptions
{
    /// <summary>Largest POST body, and longest GET query string, in bytes.</summary>
    public int MaxRequestBytes { get; set; } = 64 * 1024;

    /// <summary>Deepest selection a document may nest (introspection included).</summary>
    public int MaxDepth { get; set; } = 15;

    /// <summary>GraphQL.NET complexity budget: roughly the number of values a response may hold.</summary>
    public int MaxComplexity { get; set; } = 30_000;

    public TimeSpan ExecutionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public int DefaultPageSize { get; set; } = 50;
    public int MaxPageSize { get; set; } = 500;

    public GatewayRateLimit RateLimit { get; set; } = new();

    /// <summary>Largest number of field selections a document may expand to (fragments spread out),
    /// whatever their cost: validation rules walk every one of them.</summary>
    public int MaxFields { get; set; } = 5_000;

    public ReplayLimits Replays { get; set; } = new();
}

/// <summary>Requests allowed per token subject in a fixed window, on every researcher surface together.</summary>
public sealed class GatewayRateLimit
{
    public int PermitLimit { get; set; } = 120;
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

public static class GatewayModule
{
    public const string Path = "/graphql";
    /// <summary>One limiter for every researcher surface (GraphQL, the REST study, the projection status).</summary>
    public const string RateLimitPolicy = ResearcherRateLimit.Policy;

    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection("Gateway"))
            .Validate(o => o.ExecutionTimeout > TimeSpan.Zero, "Gateway:ExecutionTimeout must be positive.")
            .Validate(o => o.MaxRequestBytes > 0 && o.MaxDepth > 0 && o.MaxComplexity > 0, "Gateway limits must be positive.")
            .Validate(o => o.DefaultPageSize >= 1 && o.DefaultPageSize <= o.MaxPageSize, "Gateway:DefaultPageSize must be between 1 and MaxPageSize.")
            .Validate(o => o.RateLimit.PermitLimit > 0 && o.RateLimit.Window > TimeSpan.Zero, "Gateway:RateLimit needs a positive PermitLimit and Window.")
            .Validate(o => o.MaxFields > 0 && o.Replays.PerRequest > 0 && o.Replays.PerToken >= o.Replays.PerRequest &&
                           o.Replays.Concurrent > 0 && o.Replays.Window > TimeSpan.Zero,
                "Gateway:MaxFields and Gateway:Replays (PerRequest <= PerToken, Concurrent, Window) must be positive.")
            .ValidateOnStart();

        builder.Services.AddGraphQL(graphql => graphql
            .AddSchema<GatewaySchema>()
            .AddGraphTypes(typeof(GatewaySchema).Assembly)
            .AddSystemTextJson()
            // Depth and cost are measured before execution by GatewayLimits (GraphQL.NET's complexity
            // analyzer re-walks fragments at every spread and ignores the execution timeout).
            // Resolver failures other than our own ExecutionErrors say nothing of the server's insides.
            .AddErrorInfoProvider(o =>
            {
                o.ExposeExceptionDetails = false;
                o.ExposeData = true;
            }));

        builder.Services.AddScoped<GatewayReadModel>();
        builder.Services.AddSingleton<RowOrder>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<GatewayTelemetry>();
        builder.Services.AddSingleton<ReplayBudget>();

        // Gateway documents are network-wide, like the outcome read models they sit beside.
        builder.Services.ConfigureMarten(options =>
        {
            options.Schema.For<GatewayAuditEntry>().SingleTenanted().Index(e => e.At);
            options.Schema.For<SavedStudy>().SingleTenanted().Index(s => s.Name);
        });

        builder.Services.AddRateLimiter(options => options.AddPolicy<string, ResearcherRateLimit>(RateLimitPolicy));
        // Kestrel refuses request lines over 8 KiB with a bare 414 before the gateway sees them;
        // let GET documents up to the gateway's own limit through, to be answered by its rules.
        var requestLine = builder.Configuration.GetValue("Gateway:MaxRequestBytes", new GatewayOptions().MaxRequestBytes) + 8 * 1024;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestLineSize = Math.Max(kestrel.Limits.MaxRequestLineSize, requestLine));
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        // After authentication (Program.cs), so the limiter can partition by the token's subject.
        app.UseRateLimiter();

        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Post], GraphQLHttpEndpoint.HandleAsync)
            .RequireAuthorization(AuthenticationExtensions.Researcher)
            .RequireRateLimiting(RateLimitPolicy)
            .WithName("graphql");
        app.MapGet(Path + "/schema.graphql", SchemaDocument.HandleAsync)
            .RequireAuthorization(AuthenticationExtensions.Researcher)
            .RequireRateLimiting(RateLimitPolicy);
        GraphiQLPage.Map(app);
        return app;
    }
}

using System.Threading.RateLimiting;
using GraphQL;
using Marten;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Gateway.Auditing;
using MatOutcomes.Platform.Gateway.Http;
using MatOutcomes.Platform.Gateway.Ide;
using MatOutcomes.Platform.Gateway.Reading;
using MatOutcomes.Platform.Gateway.SavingStudies;
using MatOutcomes.Platform.Gateway.Schema;
using Microsoft.AspNetCore.RateLimiting;
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
}

/// <summary>Requests allowed per token subject in a fixed window.</summary>
public sealed class GatewayRateLimit
{
    public int PermitLimit { get; set; } = 120;
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

public static class GatewayModule
{
    public const string Path = "/graphql";
    public const string RateLimitPolicy = "gateway";

    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection("Gateway"))
            .Validate(o => o.ExecutionTimeout > TimeSpan.Zero, "Gateway:ExecutionTimeout must be positive.")
            .Validate(o => o.MaxRequestBytes > 0 && o.MaxDepth > 0 && o.MaxComplexity > 0, "Gateway limits must be positive.")
            .Validate(o => o.DefaultPageSize >= 1 && o.DefaultPageSize <= o.MaxPageSize, "Gateway:DefaultPageSize must be between 1 and MaxPageSize.")
            .Validate(o => o.RateLimit.PermitLimit > 0 && o.RateLimit.Window > TimeSpan.Zero, "Gateway:RateLimit needs a positive PermitLimit and Window.")
            .ValidateOnStart();

        builder.Services.AddGraphQL(graphql => graphql
            .AddSchema<GatewaySchema>()
            .AddGraphTypes(typeof(GatewaySchema).Assembly)
            .AddSystemTextJson()
            .AddComplexityAnalyzer((complexity, services) =>
            {
                var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
                complexity.MaxDepth = options.MaxDepth;
                complexity.MaxComplexity = options.MaxComplexity;
            })
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

        // Gateway documents are network-wide, like the outcome read models they sit beside.
        builder.Services.ConfigureMarten(options =>
        {
            options.Schema.For<GatewayAuditEntry>().SingleTenanted().Index(e => e.At);
            options.Schema.For<SavedStudy>().SingleTenanted().Index(s => s.Name);
        });

        builder.Services.AddRateLimiter(options => options.AddPolicy<string, GatewayRateLimitPolicy>(RateLimitPolicy));
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
            .RequireAuthorization(AuthenticationExtensions.Researcher);
        GraphiQLPage.Map(app);
        return app;
    }
}

/// <summary>A fixed window of requests per token subject; a refusal is an RFC 7807 problem with
/// Retry-After. Its own rejection handler keeps it independent of other modules' limiters.</summary>
public sealed class GatewayRateLimitPolicy(IOptions<GatewayOptions> options) : IRateLimiterPolicy<string>
{
    public RateLimitPartition<string> GetPartition(HttpContext http)
    {
        var limit = options.Value.RateLimit;
        var subject = http.User.FindFirst("sub")?.Value ?? "anonymous";
        return RateLimitPartition.GetFixedWindowLimiter(subject, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.PermitLimit,
            Window = limit.Window,
            QueueLimit = 0,
        });
    }

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (context, _) =>
    {
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.Value.RateLimit.Window;
        context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Problems.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
            $"This token may send {options.Value.RateLimit.PermitLimit} GraphQL requests per {options.Value.RateLimit.Window}; retry after {retryAfter.TotalSeconds:0} s.",
            "rate-limited");
    };
}

using System.Globalization;
using System.Threading.RateLimiting;
using MatOutcomes.Platform.Auth;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Gateway.Limits;

/// <summary>A fixed window of requests per token subject, shared by every researcher surface (a
/// token the gateway had limited could still send 130 REST studies in a row); a refusal is an RFC
/// 7807 problem with Retry-After. Admin tokens are operators' tools (lag watchers, dashboards) and
/// are not limited. Its own rejection handler keeps it independent of other modules' limiters.</summary>
public sealed class ResearcherRateLimit(IOptions<GatewayOptions> options) : IRateLimiterPolicy<string>
{
    public const string Policy = "researcher";

    public RateLimitPartition<string> GetPartition(HttpContext http)
    {
        if (http.User.IsInRole(Roles.Admin)) return RateLimitPartition.GetNoLimiter("admin");
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
        context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await Problems.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
            $"This token may send {options.Value.RateLimit.PermitLimit} requests per {options.Value.RateLimit.Window} to the research " +
            $"surfaces (GraphQL and REST together); retry after {retryAfter.TotalSeconds:0} s.",
            "rate-limited");
    };
}

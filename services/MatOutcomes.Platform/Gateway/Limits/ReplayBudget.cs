using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using MatOutcomes.Platform.Outcomes.Releasing;
using MatOutcomes.Platform.Outcomes.Studying;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Gateway.Limits;

/// <summary>Bounds on <c>asOf</c> replays (configuration section <c>Gateway:Replays</c>). A replay
/// reads the event log up to a sequence and folds it, O(events) in time and memory: sixty of them in
/// one request once took 56 CPU-seconds and 700 MB.</summary>
public sealed class ReplayLimits
{
    /// <summary>Distinct asOf sequences one request may name.</summary>
    public int PerRequest { get; set; } = 4;

    /// <summary>Distinct asOf sequences one token subject may name per <see cref="Window"/>.</summary>
    public int PerToken { get; set; } = 24;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Replays run at once in this process; the rest wait their turn.</summary>
    public int Concurrent { get; set; } = 1;
}

/// <summary>Where asOf replays are charged and run: a cap per request and per token subject,
/// checked before a request executes, and replays that are queued (a few at a time for the whole
/// process) and shared (requests asking for the same sequence meanwhile wait for the one replay).</summary>
public sealed class ReplayBudget : IDisposable
{
    private readonly ReplayLimits _limits;
    private readonly PartitionedRateLimiter<string> _perToken;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<(Type, long), Lazy<Task<object>>> _running = new();

    public ReplayBudget(IOptions<GatewayOptions> options)
    {
        _limits = options.Value.Replays;
        _slots = new SemaphoreSlim(_limits.Concurrent, _limits.Concurrent);
        _perToken = PartitionedRateLimiter.Create<string, string>(subject => RateLimitPartition.GetFixedWindowLimiter(subject,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = _limits.PerToken, Window = _limits.Window, QueueLimit = 0 }));
    }

    public ReplayLimits Limits => _limits;

    /// <summary>Charges <paramref name="distinct"/> replays to a subject; false, with when to come
    /// back, when its budget for the window is spent.</summary>
    public bool TryCharge(string subject, int distinct, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (distinct <= 0) return true;
        using var lease = _perToken.AttemptAcquire(subject, Math.Min(distinct, _limits.PerToken));
        if (lease.IsAcquired) return true;
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : _limits.Window;
        return false;
    }

    /// <summary>Runs a replay in its turn, or joins the same one already queued or running. A
    /// request that gives up stops waiting; the replay itself finishes for whoever else waits.</summary>
    public async Task<T> RunAsync<T>(long sequence, Func<CancellationToken, Task<T>> replay, CancellationToken cancellation)
    {
        var key = (typeof(T), sequence);
        var shared = _running.GetOrAdd(key, _ => new Lazy<Task<object>>(() => QueuedAsync(key, replay)));
        return (T)await shared.Value.WaitAsync(cancellation);
    }

    private async Task<object> QueuedAsync<T>((Type, long) key, Func<CancellationToken, Task<T>> replay)
    {
        try
        {
            await _slots.WaitAsync();
            try
            {
                return (await replay(CancellationToken.None))!;
            }
            finally
            {
                _slots.Release();
            }
        }
        finally
        {
            _running.TryRemove(key, out _);
        }
    }

    /// <summary>For REST endpoints taking <c>?asOf=</c>: a sequence that is not a release's is refused
    /// (research figures exist only per release); then one replay is charged to the token, refused
    /// with 429 and Retry-After when spent.</summary>
    public static async ValueTask<object?> ChargeAsOfQuery(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        // Anything but plain digits goes on to the endpoint, which refuses it by name ("00" parses as 0).
        var text = http.Request.Query["asOf"].ToString();
        if (!Contracts.Sync.Identifiers.CountPattern().IsMatch(text) ||
            !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var asOf)) return await next(context);
        if (!await http.RequestServices.GetRequiredService<Releases>().IsReleaseAsync(asOf, http.RequestAborted))
            return Problems.Validation("The study query is not valid", [new Contracts.FieldError("asOf", "release", StudyReader.NotARelease)]);
        var budget = http.RequestServices.GetRequiredService<ReplayBudget>();
        var subject = http.User.FindFirst("sub")?.Value ?? "anonymous";
        if (budget.TryCharge(subject, 1, out var retryAfter)) return await next(context);
        http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Problems.Result(StatusCodes.Status429TooManyRequests, "Too many asOf replays",
            $"This token may replay {budget.Limits.PerToken} distinct asOf sequences per {budget.Limits.Window}; retry after {retryAfter.TotalSeconds:0} s.",
            "replay-budget");
    }

    public void Dispose()
    {
        _perToken.Dispose();
        _slots.Dispose();
    }
}

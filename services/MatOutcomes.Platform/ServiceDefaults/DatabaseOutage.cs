using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace MatOutcomes.Platform.ServiceDefaults;

/// <summary>Answers any request that failed because PostgreSQL could not be reached with 503 and
/// <c>Retry-After</c>, in one place for every endpoint, instead of a 500 that reads like a bug. For
/// a push this means "outcome unknown": the commit may or may not have happened, and re-sending the
/// same batch is safe because event ids make it idempotent.</summary>
public sealed class DatabaseOutage(ILogger<DatabaseOutage> log) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellation)
    {
        if (!IsOutage(exception) || http.Response.HasStarted) return false;
        log.LogWarning("The database is unreachable ({Error}); answering 503 to {Method} {Path}",
            Innermost(exception).Message, http.Request.Method, http.Request.Path);
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Problems.Write(http, StatusCodes.Status503ServiceUnavailable, "Database unavailable",
            $"The platform cannot reach its database just now. The outcome of this request is unknown: send it again " +
            $"after {RetryAfterSeconds} s (a push may be re-sent unchanged; its event ids make that safe).", "database-unavailable");
        return true;
    }

    /// <summary>Connection-level failures: the server is down, restarting, refusing connections,
    /// or dropped this one. Errors a request caused itself (constraint violations, bad SQL) are not.</summary>
    public static bool IsOutage(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    if (pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300")
                        return true;
                    break;
                case NpgsqlException { IsTransient: true }:
                case SocketException:
                    return true;
                case AggregateException aggregate when aggregate.InnerExceptions.Any(IsOutage):
                    return true;
            }
        }
        return false;
    }

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}

using Microsoft.AspNetCore.Diagnostics;

namespace MatOutcomes.Platform.ServiceDefaults;

/// <summary>A request the server could not even read (a query parameter that does not bind, a body
/// over its limit) is the client's error: answered with its own 4xx as problem details, never as a
/// 500 (which is what the development exception handler made of it).</summary>
public sealed class BadRequests : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellation)
    {
        if (exception is not BadHttpRequestException bad || http.Response.HasStarted) return false;
        var status = bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : StatusCodes.Status400BadRequest;
        await Problems.Write(http, status, status == StatusCodes.Status413PayloadTooLarge ? "Request too large" : "Bad request",
            bad.Message, status == StatusCodes.Status413PayloadTooLarge ? "too-large" : "bad-request");
        return true;
    }
}

using Microsoft.AspNetCore.Http.Features;

namespace MatOutcomes.Platform.Gateway.Limits;

/// <summary>A body limit for one endpoint, far below Kestrel's 30 MB default: a study filter is a
/// few hundred bytes, and a 3 MB one was read, deserialized and computed whole.</summary>
public static class RequestBody
{
    public const long StudyLimit = 64 * 1024;

    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> AtMost(long bytes) =>
        async (context, next) =>
        {
            var http = context.HttpContext;
            if (http.Request.ContentLength > bytes)
                return Problems.Result(StatusCodes.Status413PayloadTooLarge, "Request too large",
                    $"The body may be at most {bytes} bytes.", "too-large");
            // Bodies sent without a length are cut off by the server at the same size.
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = bytes;
            return await next(context);
        };
}

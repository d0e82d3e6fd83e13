using MatOutcomes.Contracts;
using Microsoft.AspNetCore.Mvc;

namespace MatOutcomes.Platform;

/// <summary>RFC 7807 answers. Every refused request says which field broke which rule; the
/// <c>type</c> is a stable URN a client can switch on.</summary>
public static class Problems
{
    public static string TypeUri(string code) => $"urn:matoutcomes:problem:{code}";

    /// <summary>A refusal listing at most the first <see cref="FieldErrors.MaxListed"/> errors, with
    /// <c>errorCount</c> saying how many were found (a refusal must not cost more than the request).</summary>
    public static IResult Validation(string title, IReadOnlyList<FieldError> errors,
        int status = StatusCodes.Status400BadRequest, int? errorCount = null, bool stoppedEarly = false)
    {
        var total = errorCount ?? errors.Count;
        var listed = errors.Take(FieldErrors.MaxListed).ToList();
        var more = total - Math.Min(5, listed.Count);
        return TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Title = title,
            Type = TypeUri(status == StatusCodes.Status422UnprocessableEntity ? "episode-rules" : "validation"),
            Detail = string.Join("; ", listed.Take(5).Select(e => $"{e.Field}: {e.Message}")) +
                     (more > 0 ? $"; and {more}{(stoppedEarly ? "+" : "")} more" : "") +
                     (total > listed.Count ? $" (the first {listed.Count} are listed{(stoppedEarly ? $"; checking stopped after {total}" : "")})" : ""),
            Extensions = { ["errors"] = listed, ["errorCount"] = total },
        });
    }

    public static IResult Validation(string title, FieldErrors errors, int status = StatusCodes.Status400BadRequest) =>
        Validation(title, errors.Listed, status, errors.Total, errors.Full);

    public static IResult Result(int status, string title, string detail, string code) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: TypeUri(code));

    public static Task Write(HttpContext context, int status, string title, string detail, string code)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = TypeUri(code) },
        }).AsTask();
    }
}

using MatOutcomes.Contracts;
using Microsoft.AspNetCore.Mvc;

namespace MatOutcomes.Platform;

/// <summary>RFC 7807 answers. Every refused request says which field broke which rule; the
/// <c>type</c> is a stable URN a client can switch on.</summary>
public static class Problems
{
    public static string TypeUri(string code) => $"urn:matoutcomes:problem:{code}";

    public static IResult Validation(string title, IReadOnlyList<FieldError> errors,
        int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Title = title,
            Type = TypeUri(status == StatusCodes.Status422UnprocessableEntity ? "episode-rules" : "validation"),
            Detail = string.Join("; ", errors.Take(5).Select(e => $"{e.Field}: {e.Message}")) +
                     (errors.Count > 5 ? $"; and {errors.Count - 5} more" : ""),
            Extensions = { ["errors"] = errors },
        });

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

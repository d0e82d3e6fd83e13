using System.Diagnostics;
using System.Text.Json;
using GraphQL;
using GraphQL.Execution;
using GraphQL.Transport;
using GraphQLParser;
using GraphQLParser.AST;
using GraphQLParser.Exceptions;
using MatOutcomes.Platform.Gateway.Auditing;
using MatOutcomes.Platform.Gateway.Limits;
using MatOutcomes.Platform.Gateway.Schema;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace MatOutcomes.Platform.Gateway.Http;

/// <summary>GraphQL over HTTP (graphql.github.io/graphql-over-http), written here because
/// GraphQL.Server is not served: POST application/json or GET with query parameters; the
/// response media type negotiated from Accept (application/json when it names neither); request, parse and validation failures answered
/// 400 under application/graphql-response+json but 200 under legacy application/json; mutations
/// over GET refused with 405.</summary>
public static class GraphQLHttpEndpoint
{
    public const string GraphQLResponseJson = "application/graphql-response+json";
    public const string Json = "application/json";

    public static async Task HandleAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        var services = http.RequestServices;
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var serializer = services.GetRequiredService<IGraphQLTextSerializer>();
        var audit = services.GetRequiredService<AuditLog>();
        using var activity = GatewayTelemetry.Source.StartActivity("graphql.request");

        var mediaType = Negotiate(http.Request);
        if (mediaType is null)
        {
            // Written by hand: the problem-details service would itself honour Accept and find no writer.
            http.Response.StatusCode = StatusCodes.Status406NotAcceptable;
            await http.Response.WriteAsJsonAsync(new ProblemDetails
            {
                Status = StatusCodes.Status406NotAcceptable,
                Title = "Not acceptable",
                Detail = $"This endpoint answers {GraphQLResponseJson} or {Json}; the Accept header allows neither.",
                Type = Problems.TypeUri("not-acceptable"),
            }, (JsonSerializerOptions?)null, "application/problem+json", http.RequestAborted);
            return;
        }

        var read = HttpMethods.IsGet(http.Request.Method)
            ? ReadGet(http.Request, serializer, options)
            : await ReadPostAsync(http.Request, serializer, options, http.RequestAborted);

        var context = new GatewayUserContext(http.User);
        var record = new AuditRecord(context.Subject, context.Role, http.Request.Method, read.Request?.Query, read.Request?.OperationName,
            read.Request?.Variables is { } v ? serializer.Serialize(v) : null);

        if (read.Error is { } requestError)
        {
            await RespondAsync(http, serializer, mediaType, requestError.Status, RequestError(requestError.Code, requestError.Message),
                audit, record with { Outcome = requestError.Code, ErrorCount = 1 }, context, started);
            return;
        }

        var request = read.Request!;
        var document = TryParse(request.Query!);
        var operation = document is null ? null : SelectOperation(document, request.OperationName);
        record = record with { OperationType = operation?.Operation.ToString().ToLowerInvariant(), OperationName = request.OperationName ?? operation?.Name?.StringValue };
        activity?.SetTag("graphql.operation.name", record.OperationName);
        activity?.SetTag("graphql.operation.type", record.OperationType);

        if (HttpMethods.IsGet(http.Request.Method) && operation?.Operation is OperationType.Mutation or OperationType.Subscription)
        {
            http.Response.Headers.Allow = HttpMethods.Post;
            await RespondAsync(http, serializer, mediaType, StatusCodes.Status405MethodNotAllowed,
                RequestError("METHOD_NOT_ALLOWED", $"A {operation.Operation.ToString().ToLowerInvariant()} cannot be sent with GET; use POST."),
                audit, record with { Outcome = "method-not-allowed", ErrorCount = 1 }, context, started);
            return;
        }

        if (document is not null && operation is not null &&
            GatewayLimits.Check(services, document, operation, request.Variables, context.Subject) is { } refused)
        {
            if (refused.RetryAfter is { } wait) http.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var refusedStatus = refused.Status == StatusCodes.Status400BadRequest && mediaType != GraphQLResponseJson ? StatusCodes.Status200OK : refused.Status;
            await RespondAsync(http, serializer, mediaType, refusedStatus, RequestError(refused.Code, refused.Message),
                audit, record with { Outcome = "refused-" + refused.Code.ToLowerInvariant(), ErrorCount = 1 }, context, started);
            return;
        }

        var execution = new ExecutionOptions
        {
            Query = request.Query,
            Document = document,
            OperationName = request.OperationName,
            Variables = request.Variables,
            Extensions = request.Extensions,
            RequestServices = services,
            User = http.User,
            UserContext = context,
            CancellationToken = http.RequestAborted,
            Timeout = options.ExecutionTimeout,
            TimeoutAction = TimeoutAction.ReturnTimeoutError,
        };
        ExecutionResult result;
        try
        {
            // On the thread pool and bounded as a whole: validation runs synchronously inside
            // ExecuteAsync and does not watch the timeout that only the execution observes.
            var executer = services.GetRequiredService<IDocumentExecuter<GatewaySchema>>();
            result = await Task.Run(() => executer.ExecuteAsync(execution), http.RequestAborted)
                .WaitAsync(options.ExecutionTimeout + TimeSpan.FromSeconds(1), http.RequestAborted);
        }
        catch (TimeoutException)
        {
            result = new ExecutionResult { Errors = [new TimeoutError()] };
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client left; there is no one to answer, but what ran is still on the record.
            await audit.WriteAsync(record with
            {
                Outcome = "client-aborted", RowsReturned = context.RowsReturned, Sequences = context.SequencesRead,
                Duration = Stopwatch.GetElapsedTime(started),
            }, CancellationToken.None);
            return;
        }

        // Not executed = the document did not parse or validate (or no operation could be chosen):
        // a request error, which only the new media type may signal by status code. A timeout is
        // the server's failure, not the request's.
        if (result.Errors is { Count: > Contracts.FieldErrors.MaxListed } many)
        {
            // An answer listing every error of a hostile document would cost more than the document.
            var kept = new ExecutionErrors();
            foreach (var error in many.Take(Contracts.FieldErrors.MaxListed)) kept.Add(error);
            kept.Add(new ExecutionError($"... and {many.Count - Contracts.FieldErrors.MaxListed} more errors.") { Code = "MORE_ERRORS" });
            result.Errors = kept;
        }
        var timedOut = result.Errors?.Any(e => e is TimeoutError) == true;
        var status = mediaType != GraphQLResponseJson || result.Executed ? StatusCodes.Status200OK
            : timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status400BadRequest;
        var outcome = timedOut ? "timeout" : !result.Executed ? "request-error" : result.Errors is { Count: > 0 } ? "field-errors" : "ok";
        await RespondAsync(http, serializer, mediaType, status, result, audit,
            record with { Outcome = outcome, ErrorCount = result.Errors?.Count ?? 0 }, context, started);
    }

    private static async Task RespondAsync(HttpContext http, IGraphQLTextSerializer serializer, string mediaType, int status,
        ExecutionResult result, AuditLog audit, AuditRecord record, GatewayUserContext context, long started)
    {
        // Audited before the answer leaves, so no researcher sees a figure the log does not hold.
        await audit.WriteAsync(record with
        {
            RowsReturned = context.RowsReturned,
            Sequences = context.SequencesRead,
            Duration = Stopwatch.GetElapsedTime(started),
        }, CancellationToken.None);

        http.Response.StatusCode = status;
        http.Response.ContentType = mediaType + "; charset=utf-8";
        await serializer.WriteAsync(http.Response.Body, result, http.RequestAborted);
    }

    private static ExecutionResult RequestError(string code, string message) =>
        new() { Errors = [new ExecutionError(message) { Code = code }] };

    /// <summary>The response media type: the one the client prefers; on a tie the new one if the
    /// client names it, else application/json, which the spec makes the answer to a missing Accept
    /// header or a bare wildcard (older clients send those and understand only JSON).</summary>
    public static string? Negotiate(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept is not { Count: > 0 }) return Json;

        // The quality a range gives a media type when it names it (exact) or covers it (wildcard); -1: absent.
        double Quality(string mediaType, bool exact)
        {
            var best = -1.0;
            foreach (var range in accept)
            {
                var type = range.MediaType.Value ?? "";
                var matches = exact
                    ? type.Equals(mediaType, StringComparison.OrdinalIgnoreCase)
                    : type == "*/*" || type.Equals("application/*", StringComparison.OrdinalIgnoreCase);
                if (matches) best = Math.Max(best, range.Quality ?? 1.0);
            }
            return best;
        }

        var (namedModern, namedLegacy, wildcard) = (Quality(GraphQLResponseJson, true), Quality(Json, true), Quality("", false));
        var modern = namedModern >= 0 ? namedModern : wildcard;
        var legacy = namedLegacy >= 0 ? namedLegacy : wildcard;
        if (modern <= 0 && legacy <= 0) return null;
        if (modern != legacy) return modern > legacy ? GraphQLResponseJson : Json;
        return namedModern >= 0 ? GraphQLResponseJson : Json;
    }

    private sealed record RequestFailure(int Status, string Code, string Message);

    private sealed record ReadResult(GraphQLRequest? Request, RequestFailure? Error)
    {
        public static ReadResult Fail(int status, string code, string message) => new(null, new RequestFailure(status, code, message));
    }

    private static ReadResult ReadGet(HttpRequest request, IGraphQLTextSerializer serializer, GatewayOptions options)
    {
        if ((request.QueryString.Value?.Length ?? 0) > options.MaxRequestBytes)
            return ReadResult.Fail(StatusCodes.Status414UriTooLong, "REQUEST_TOO_LARGE",
                $"The query string is longer than {options.MaxRequestBytes} bytes; send large documents with POST.");

        string? Single(string name, out bool repeated)
        {
            var values = request.Query[name];
            repeated = values.Count > 1;
            return values.Count == 1 ? values[0] : null;
        }

        var query = Single("query", out var repeatedQuery);
        var operationName = Single("operationName", out var repeatedName);
        if (repeatedQuery || repeatedName)
            return ReadResult.Fail(StatusCodes.Status400BadRequest, "INVALID_REQUEST", "Each parameter may be given once.");
        if (string.IsNullOrWhiteSpace(query))
            return ReadResult.Fail(StatusCodes.Status400BadRequest, "QUERY_MISSING", "The 'query' parameter is missing.");

        try
        {
            return new ReadResult(new GraphQLRequest
            {
                Query = query,
                OperationName = string.IsNullOrEmpty(operationName) ? null : operationName,
                Variables = Single("variables", out _) is { Length: > 0 } variables ? serializer.Deserialize<Inputs>(variables) : null,
                Extensions = Single("extensions", out _) is { Length: > 0 } extensions ? serializer.Deserialize<Inputs>(extensions) : null,
            }, null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            return ReadResult.Fail(StatusCodes.Status400BadRequest, "INVALID_REQUEST", "'variables' and 'extensions' must be JSON objects.");
        }
    }

    private static async Task<ReadResult> ReadPostAsync(HttpRequest request, IGraphQLTextSerializer serializer, GatewayOptions options,
        CancellationToken cancellation)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) ||
            !contentType.MediaType.Equals(Json, StringComparison.OrdinalIgnoreCase) ||
            (contentType.Charset.HasValue && !contentType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
            return ReadResult.Fail(StatusCodes.Status415UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
                "Send the request as application/json (utf-8).");

        var body = await ReadBoundedAsync(request, options.MaxRequestBytes, cancellation);
        if (body is null)
            return ReadResult.Fail(StatusCodes.Status413PayloadTooLarge, "REQUEST_TOO_LARGE",
                $"The request body is larger than {options.MaxRequestBytes} bytes.");
        if (body.Length == 0)
            return ReadResult.Fail(StatusCodes.Status400BadRequest, "INVALID_REQUEST", "The request body is empty.");

        GraphQLRequest? parsed;
        try
        {
            // GraphQL.NET's converter reads any shape; the spec allows exactly one JSON object.
            using (var shape = JsonDocument.Parse(body))
                if (shape.RootElement.ValueKind != JsonValueKind.Object)
                    return ReadResult.Fail(StatusCodes.Status400BadRequest, "INVALID_REQUEST",
                        "The body must be one JSON object (batched requests are not supported).");
            parsed = serializer.Deserialize<GraphQLRequest>(System.Text.Encoding.UTF8.GetString(body));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or FormatException)
        {
            return ReadResult.Fail(StatusCodes.Status400BadRequest, "INVALID_JSON", $"The request body is not a valid GraphQL request: {e.Message}");
        }

        if (string.IsNullOrWhiteSpace(parsed?.Query))
            return ReadResult.Fail(StatusCodes.Status400BadRequest, "QUERY_MISSING", "The request has no 'query'.");
        return new ReadResult(parsed, null);
    }

    /// <summary>The body, or null when it exceeds <paramref name="limit"/>: read with a bound rather
    /// than trusting Content-Length, and whatever server is underneath.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpRequest request, int limit, CancellationToken cancellation)
    {
        if (request.ContentLength > limit) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellation)) > 0)
        {
            if (buffer.Length + read > limit) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>The parsed document, or null to let the executer report the syntax error in its own words.</summary>
    private static GraphQLDocument? TryParse(string query)
    {
        try
        {
            return Parser.Parse(query, new ParserOptions { Ignore = IgnoreOptions.Comments });
        }
        catch (GraphQLParserException)
        {
            return null;
        }
    }

    private static GraphQLOperationDefinition? SelectOperation(GraphQLDocument document, string? operationName)
    {
        var operations = document.Definitions.OfType<GraphQLOperationDefinition>().ToList();
        return operationName is null
            ? operations.Count == 1 ? operations[0] : null
            : operations.FirstOrDefault(o => o.Name?.StringValue == operationName);
    }
}

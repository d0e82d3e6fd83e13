using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MatOutcomes.Tests.Gateway;

/// <summary>A raw GraphQL-over-HTTP client for the tests: the request exactly as sent, the status,
/// content type and body exactly as received.</summary>
public sealed class GraphQLClient(HttpClient http)
{
    public const string Modern = "application/graphql-response+json";
    public const string Legacy = "application/json";

    public sealed record Reply(HttpStatusCode Status, string? MediaType, JsonNode? Body, string Text, HttpResponseMessage Response)
    {
        public JsonNode Data => Body?["data"] ?? throw new InvalidOperationException($"no data: {Text}");
        public JsonArray? Errors => Body?["errors"] as JsonArray;
        public string? FirstErrorCode => Errors?[0]?["extensions"]?["code"]?.GetValue<string>();
    }

    public async Task<Reply> PostAsync(string query, object? variables = null, string? operationName = null, string? accept = Modern)
    {
        var body = new Dictionary<string, object?> { ["query"] = query };
        if (variables is not null) body["variables"] = variables;
        if (operationName is not null) body["operationName"] = operationName;
        return await PostRawAsync(JsonSerializer.Serialize(body), accept: accept);
    }

    public async Task<Reply> PostRawAsync(string body, string contentType = "application/json", string? accept = Modern)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        return await SendAsync(request);
    }

    public async Task<Reply> GetAsync(string query, object? variables = null, string? operationName = null, string? accept = Modern)
    {
        var url = "/graphql?query=" + Uri.EscapeDataString(query) +
                  (variables is null ? "" : "&variables=" + Uri.EscapeDataString(JsonSerializer.Serialize(variables))) +
                  (operationName is null ? "" : "&operationName=" + Uri.EscapeDataString(operationName));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        return await SendAsync(request);
    }

    private async Task<Reply> SendAsync(HttpRequestMessage request)
    {
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        try
        {
            body = text.Length > 0 ? JsonNode.Parse(text) : null;
        }
        catch (JsonException)
        {
        }
        return new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, text, response);
    }

    /// <summary>A query that must succeed: 200, the modern media type, no errors; returns data.</summary>
    public async Task<JsonNode> QueryAsync(string query, object? variables = null)
    {
        var reply = await PostAsync(query, variables);
        Assert.True(reply.Status == HttpStatusCode.OK && reply.Errors is null, $"{(int)reply.Status}: {reply.Text}");
        Assert.Equal(Modern, reply.MediaType);
        return reply.Data;
    }
}

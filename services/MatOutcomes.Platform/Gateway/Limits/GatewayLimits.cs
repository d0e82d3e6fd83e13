using GraphQL;
using GraphQLParser.AST;
using MatOutcomes.Platform.Gateway.Schema;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Gateway.Limits;

/// <summary>Why a document is refused before it runs. <see cref="Status"/> 400 is a request error
/// (200 under legacy application/json, like any document that does not validate); 429 is a spent
/// replay budget and carries <see cref="RetryAfter"/>.</summary>
public sealed record LimitRefusal(int Status, string Code, string Message, TimeSpan? RetryAfter = null);

/// <summary>Everything a researcher's document may cost, checked before execution in time linear in
/// the document: depth, cost, expanded size, distinct asOf replays per request and per token.</summary>
public static class GatewayLimits
{
    public static LimitRefusal? Check(IServiceProvider services, GraphQLDocument document, GraphQLOperationDefinition operation,
        Inputs? variables, string subject)
    {
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var schema = services.GetRequiredService<GatewaySchema>();
        schema.Initialize();
        var cost = QueryCost.Measure(schema, document, operation, variables);

        if (cost.Cycle is { } fragment)
            return new(StatusCodes.Status400BadRequest, "FRAGMENT_CYCLE",
                $"Fragment '{fragment}' spreads itself, directly or through other fragments; a document must not.");
        var replays = services.GetRequiredService<ReplayBudget>();
        if (cost.AsOf.Count > replays.Limits.PerRequest)
            return new(StatusCodes.Status400BadRequest, "TOO_MANY_AS_OF",
                $"The query names {(cost.AsOf.Count >= 64 ? "64 or more" : cost.AsOf.Count.ToString())} distinct asOf sequences; " +
                $"one request may replay at most {replays.Limits.PerRequest} (each replays the event log).");
        if (cost.Depth > options.MaxDepth)
            return new(StatusCodes.Status400BadRequest, "TOO_DEEP",
                $"The query is nested {cost.Depth} levels deep (fragments included); the maximum depth is {options.MaxDepth}.");
        if (cost.Cost > options.MaxComplexity)
            return new(StatusCodes.Status400BadRequest, "TOO_COMPLEX",
                $"The query's complexity is {Describe(cost.Cost)}, over the budget of {options.MaxComplexity} " +
                "(a field costs 1, a list multiplies what it holds by its page size or 20, a computed study costs 1000).");
        if (cost.Fields > options.MaxFields)
            return new(StatusCodes.Status400BadRequest, "TOO_LARGE",
                $"The query expands to {Describe(cost.Fields)} field selections once its fragments are spread; at most {options.MaxFields} are allowed.");

        if (!replays.TryCharge(subject, cost.AsOf.Count, out var retryAfter))
            return new(StatusCodes.Status429TooManyRequests, "REPLAY_BUDGET_SPENT",
                $"This token may replay {replays.Limits.PerToken} distinct asOf sequences per {replays.Limits.Window}; retry after {retryAfter.TotalSeconds:0} s.",
                retryAfter);
        return null;
    }

    private static string Describe(double value) => value >= 1e15 ? "beyond measure" : value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}

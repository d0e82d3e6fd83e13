using System.Collections.Concurrent;
using System.Security.Claims;
using GraphQL;
using MatOutcomes.Contracts;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Gateway.Reading;

namespace MatOutcomes.Platform.Gateway.Schema;

/// <summary>Per-request state the resolvers share with the HTTP endpoint: who asks, and what the
/// answer touched (for the audit entry).</summary>
public sealed class GatewayUserContext(ClaimsPrincipal user) : Dictionary<string, object?>
{
    private int _rows;
    private readonly ConcurrentDictionary<long, byte> _sequences = new();

    public string Subject { get; } = user.FindFirst("sub")?.Value ?? "anonymous";
    public string? Role { get; } = user.FindFirst(PlatformClaims.Role)?.Value;

    public int RowsReturned => Volatile.Read(ref _rows);
    public IReadOnlyList<long> SequencesRead => [.. _sequences.Keys.Order()];

    public void Returned(int rows) => Interlocked.Add(ref _rows, rows);
    public void Read(NetworkSnapshot snapshot) => _sequences.TryAdd(snapshot.Sequence, 0);
}

/// <summary>A refusal a researcher can act on: a stable <c>code</c>, and the input field and
/// rule in <c>extensions.data</c>.</summary>
public sealed class GatewayError : ExecutionError
{
    public GatewayError(string code, string message, string? field = null, string? rule = null) : base(message)
    {
        Code = code;
        if (field is not null) Data["field"] = field;
        if (rule is not null) Data["rule"] = rule;
    }

    public static GatewayError Invalid(string argument, IReadOnlyList<FieldError> errors)
    {
        var error = new GatewayError("INVALID_ARGUMENT",
            $"{argument} is not valid: " + string.Join("; ", errors.Select(e => $"{argument}.{e.Field}: {e.Message}")));
        error.Data["errors"] = errors.Select(e => new Dictionary<string, object?>
        {
            ["field"] = $"{argument}.{e.Field}", ["rule"] = e.Rule, ["message"] = e.Message,
        }).ToList();
        return error;
    }
}

public static class ResolveContextExtensions
{
    public static GatewayUserContext Gateway(this IResolveFieldContext context) => (GatewayUserContext)context.UserContext;

    public static T Service<T>(this IResolveFieldContext context) where T : notnull =>
        context.RequestServices!.GetRequiredService<T>();

    public static GatewayReadModel ReadModel(this IResolveFieldContext context) => context.Service<GatewayReadModel>();

    /// <summary>The snapshot a field's figures come from, noted for the audit entry.</summary>
    public static async Task<NetworkSnapshot> SnapshotAsync(this IResolveFieldContext context, long? asOf)
    {
        var snapshot = await context.ReadModel().SnapshotAsync(asOf, context.CancellationToken);
        context.Gateway().Read(snapshot);
        return snapshot;
    }
}

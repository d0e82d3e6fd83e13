using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Marten;
using MatOutcomes.Platform.ServiceDefaults;

namespace MatOutcomes.Platform.Gateway.Auditing;

/// <summary>One GraphQL request as the audit trail keeps it: who asked what, when, how much came
/// back and which event sequence the figures reflect. Network-wide (single-tenanted).</summary>
public sealed record GatewayAuditEntry
{
    public Guid Id { get; init; }
    public DateTimeOffset At { get; init; }
    public string Subject { get; init; } = "";
    public string? Role { get; init; }
    public string HttpMethod { get; init; } = "";
    public string? OperationType { get; init; }
    public string? OperationName { get; init; }
    /// <summary>SHA-256 of the query text: groups repeated queries without reading them.</summary>
    public string? QueryHash { get; init; }
    public string? Query { get; init; }
    public string? Variables { get; init; }
    /// <summary><c>ok</c>, <c>field-errors</c>, <c>request-error</c> or a request-error code.</summary>
    public string Outcome { get; init; } = "";
    public int ErrorCount { get; init; }
    /// <summary>Records handed back: episode rows, clinics, trend points, benchmarks, curve points, studies.</summary>
    public int RowsReturned { get; init; }
    /// <summary>Event sequences of the read models the answer was computed from (live or as-of).</summary>
    public IReadOnlyList<long> Sequences { get; init; } = [];
    public double DurationMs { get; init; }
}

/// <summary>What the endpoint knows of a request as it goes; becomes a <see cref="GatewayAuditEntry"/>.</summary>
public sealed record AuditRecord(string Subject, string? Role, string HttpMethod, string? Query, string? OperationName, string? Variables)
{
    public string? OperationType { get; init; }
    public string Outcome { get; init; } = "";
    public int ErrorCount { get; init; }
    public int RowsReturned { get; init; }
    public IReadOnlyList<long> Sequences { get; init; } = [];
    public TimeSpan Duration { get; init; }
}

public sealed class AuditLog(IDocumentStore store, TimeProvider clock, GatewayTelemetry telemetry, ILogger<AuditLog> log)
{
    private const int MaxStoredText = 16 * 1024;

    public async Task WriteAsync(AuditRecord record, CancellationToken cancellation)
    {
        var entry = new GatewayAuditEntry
        {
            Id = Guid.CreateVersion7(),
            At = clock.GetUtcNow(),
            Subject = record.Subject,
            Role = record.Role,
            HttpMethod = record.HttpMethod,
            OperationType = record.OperationType,
            OperationName = record.OperationName,
            QueryHash = record.Query is null ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(record.Query))),
            Query = Truncate(record.Query),
            Variables = Truncate(record.Variables),
            Outcome = record.Outcome,
            ErrorCount = record.ErrorCount,
            RowsReturned = record.RowsReturned,
            Sequences = record.Sequences,
            DurationMs = record.Duration.TotalMilliseconds,
        };

        log.LogInformation(
            "GraphQL {OperationType} {OperationName} by {Subject} ({Role}): {Outcome}, {Rows} rows, {DurationMs:F1} ms, sequences {Sequences}, query {QueryHash}",
            entry.OperationType ?? "-", entry.OperationName ?? "-", entry.Subject, entry.Role, entry.Outcome, entry.RowsReturned,
            entry.DurationMs, string.Join(',', entry.Sequences), entry.QueryHash);
        telemetry.Requests.Add(1, new KeyValuePair<string, object?>("outcome", entry.Outcome),
            new KeyValuePair<string, object?>("operation.type", entry.OperationType));
        telemetry.Duration.Record(entry.DurationMs, new KeyValuePair<string, object?>("operation.type", entry.OperationType));

        await using var session = store.LightweightSession();
        session.Store(entry);
        await session.SaveChangesAsync(cancellation);
    }

    private static string? Truncate(string? text) => text is { Length: > MaxStoredText } ? text[..MaxStoredText] : text;
}

/// <summary>The gateway's own instruments, on the platform's meter and activity source.</summary>
public sealed class GatewayTelemetry(PlatformTelemetry platform)
{
    public static ActivitySource Source => PlatformTelemetry.Source;

    public Counter<long> Requests { get; } = platform.Meter.CreateCounter<long>("matoutcomes.gateway.requests", "{request}",
        "GraphQL requests answered, by outcome");

    public Histogram<double> Duration { get; } = platform.Meter.CreateHistogram<double>("matoutcomes.gateway.duration", "ms",
        "Time to read, execute and answer one GraphQL request");
}

using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;

namespace MatOutcomes.Contracts;

/// <summary>A field that broke a rule. <c>Field</c> is a JSON path from the request body,
/// e.g. <c>episodes[0].events[2].data.nprsBefore</c>; <c>Rule</c> is a stable machine name.</summary>
public sealed record FieldError(string Field, string Rule, string Message);

/// <summary>What is wrong with a request, bounded: the first <see cref="MaxListed"/> errors are
/// kept, and checking stops once <see cref="MaxCounted"/> are found. A refused request is already
/// refused; walking the rest of a hostile body, or answering with every error it holds, would make
/// the refusal cost more than the request (a 1.5 MB body with 150k unknown members once drew a
/// 24 MB answer).</summary>
public sealed class FieldErrors
{
    public const int MaxListed = 100;
    public const int MaxCounted = 1_000;

    private readonly List<FieldError> _listed = [];

    public IReadOnlyList<FieldError> Listed => _listed;

    /// <summary>Errors found; a lower bound once <see cref="Full"/>.</summary>
    public int Total { get; private set; }

    /// <summary>Enough found: the caller stops checking.</summary>
    public bool Full => Total >= MaxCounted;

    public void Add(FieldError error)
    {
        Total++;
        if (_listed.Count < MaxListed) _listed.Add(error);
    }

    public void AddRange(IEnumerable<FieldError> errors)
    {
        foreach (var error in errors)
        {
            if (Full) return;
            Add(error);
        }
    }
}

/// <summary>Checks a JSON value against the shape of a contract record before deserializing it,
/// so that every unknown, missing or mistyped member is reported by name and rule (the
/// serializer would stop at the first and describe it in its own words).</summary>
public static class ContractShape
{
    private sealed record Member(string WireName, Type Type, bool Nullable);

    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, Member>> Members = new();

    // Every event names a handful of enum values: their wire names are worked out once per type.
    private static readonly ConcurrentDictionary<Type, IReadOnlySet<string>> EnumNames = new();

    private static IReadOnlySet<string> WireNames(Type type) =>
        new SortedSet<string>(Enum.GetValues(type).Cast<Enum>().Select(ProtocolJson.WireName), StringComparer.Ordinal);

    public static void Check(JsonElement value, Type type, string path, FieldErrors errors)
    {
        if (type == typeof(JsonElement)) return;

        if (value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(new(path, "required", "must not be null"));
            return;
        }

        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        switch (underlying)
        {
            case var t when t == typeof(int):
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out _))
                    errors.Add(new(path, "integer", "must be a whole number"));
                return;
            case var t when t == typeof(double):
                if (value.ValueKind != JsonValueKind.Number)
                    errors.Add(new(path, "number", "must be a number"));
                return;
            case var t when t == typeof(string):
                if (value.ValueKind != JsonValueKind.String)
                    errors.Add(new(path, "string", "must be a string"));
                return;
            case var t when t == typeof(Guid):
                if (value.ValueKind != JsonValueKind.String || !Sync.Identifiers.IsGuidText(value.GetString()) ||
                    !Guid.TryParseExact(value.GetString(), "D", out var g))
                    errors.Add(new(path, "guid", "must be a GUID in the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"));
                else if (g == Guid.Empty)
                    errors.Add(new(path, "non-empty", "must not be the empty GUID"));
                return;
            case var t when t == typeof(DateOnly):
                if (value.ValueKind != JsonValueKind.String ||
                    !DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", out _))
                    errors.Add(new(path, "date", "must be a date in the form yyyy-MM-dd"));
                return;
            case { IsEnum: true }:
                var names = EnumNames.GetOrAdd(underlying, WireNames);
                if (value.ValueKind != JsonValueKind.String || !names.Contains(value.GetString()!))
                    errors.Add(new(path, "allowed-values", $"must be one of: {string.Join(", ", names)}"));
                return;
            case { IsGenericType: true } when underlying.GetGenericTypeDefinition() == typeof(IReadOnlyList<>):
                if (value.ValueKind != JsonValueKind.Array)
                {
                    errors.Add(new(path, "array", "must be an array"));
                    return;
                }
                var itemType = underlying.GetGenericArguments()[0];
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (errors.Full) return;
                    Check(item, itemType, $"{path}[{i++}]", errors);
                }
                return;
            default:
                CheckObject(value, underlying, path, errors);
                return;
        }
    }

    private static void CheckObject(JsonElement value, Type type, string path, FieldErrors errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new(path, "object", "must be an object"));
            return;
        }

        var members = Members.GetOrAdd(type, Describe);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            if (errors.Full) return;
            var at = Join(path, property.Name);
            if (!seen.Add(property.Name))
                errors.Add(new(at, "duplicate-field", "appears more than once"));
            else if (!members.TryGetValue(property.Name, out var member))
                errors.Add(new(at, "unknown-field",
                    "is not part of the protocol (no identifying or free-text fields are accepted)"));
            else if (property.Value.ValueKind == JsonValueKind.Null && member.Nullable)
                continue;
            else
                Check(property.Value, member.Type, at, errors);
        }

        foreach (var member in members.Values.Where(m => !m.Nullable && !seen.Contains(m.WireName)))
            errors.Add(new(Join(path, member.WireName), "required", "is required"));
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static IReadOnlyDictionary<string, Member> Describe(Type type)
    {
        var nullability = new NullabilityInfoContext(); // not thread-safe: one per call
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        return constructor.GetParameters().ToDictionary(
            p => ProtocolJson.Options.PropertyNamingPolicy!.ConvertName(p.Name!),
            p => new Member(
                ProtocolJson.Options.PropertyNamingPolicy!.ConvertName(p.Name!),
                p.ParameterType,
                Nullable.GetUnderlyingType(p.ParameterType) is not null ||
                nullability.Create(p).WriteState == NullabilityState.Nullable));
    }
}

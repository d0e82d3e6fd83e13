using System.Text.Json;
using System.Text.Json.Serialization;

namespace MatOutcomes.Contracts;

/// <summary>The one JSON dialect of the sync protocol: camelCase, kebab-case enum names, ISO
/// dates, and strict on reading (unknown, duplicate or missing members fail).</summary>
public static class ProtocolJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNameCaseInsensitive = false,
            NumberHandling = JsonNumberHandling.Strict,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
            // Nullable members may be left out; ContractShape names every missing required one.
            RespectRequiredConstructorParameters = false,
            AllowDuplicateProperties = false,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>The wire name of an enum value, e.g. <c>low-back</c> or <c>18-29</c>.</summary>
    public static string WireName(Enum value) => JsonSerializer.SerializeToElement(value, value.GetType(), Options).GetString()!;
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MatOutcomes.Contracts.Sync;

/// <summary>The identifiers of the sync protocol's URLs (clinic ids, episode ids, pull cursors)
/// as text: each has exactly one spelling, so a route or query value is held to the same rule as
/// the body. Patterns end in <c>\z</c>: .NET's <c>$</c> also matches before a final newline,
/// which once let <c>clinic-01\n</c> become a clinic of its own.</summary>
public static partial class Identifiers
{
    public const string ClinicIdRule = "must be 3-40 lower-case letters (a-z), digits or '-', beginning with a letter or digit";

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{2,39}\z", RegexOptions.CultureInvariant)]
    public static partial Regex ClinicIdPattern();

    // The canonical 36-character form only: Guid parsing alone also accepts surrounding white space.
    [GeneratedRegex(@"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\z", RegexOptions.CultureInvariant)]
    public static partial Regex GuidPattern();

    // A decimal count with no sign, leading zero, white space or digit outside 0-9.
    [GeneratedRegex(@"^(0|[1-9][0-9]{0,18})\z", RegexOptions.CultureInvariant)]
    public static partial Regex CountPattern();

    public static bool IsClinicId([NotNullWhen(true)] string? value) =>
        value is { Length: <= 40 } && ClinicIdPattern().IsMatch(value);

    public static bool IsGuidText([NotNullWhen(true)] string? value) =>
        value is { Length: 36 } && GuidPattern().IsMatch(value);

    /// <summary>A value fit for a message or a report line: every character outside printable
    /// ASCII written as <c>\uXXXX</c>, so a newline or a zero-width space can be seen.</summary>
    public static string Escaped(string value) =>
        string.Concat(value.Select(c => c is >= ' ' and <= '~' and not '\\' ? $"{c}" : $"\\u{(int)c:X4}"));

    public static FieldError? ClinicId(string field, string? value) =>
        IsClinicId(value) ? null : new FieldError(field, "clinic-id", ClinicIdRule);

    /// <summary>Each id of a list of clinic ids (a study's filter), by its index.</summary>
    public static IEnumerable<FieldError> ClinicIds(string field, IEnumerable<string>? values) =>
        (values ?? []).Select((id, i) => ClinicId($"{field}[{i}]", id)).OfType<FieldError>();

    /// <summary>An episode id as a route value: the canonical GUID text, not the empty GUID.</summary>
    public static Guid? EpisodeId(string field, string? value, ICollection<FieldError> errors)
    {
        if (!IsGuidText(value))
            errors.Add(new(field, "guid", "must be a GUID in the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"));
        else if (Guid.ParseExact(value, "D") is var id && id != Guid.Empty)
            return id;
        else
            errors.Add(new(field, "non-empty", "must not be the empty GUID"));
        return null;
    }

    /// <summary>A pull cursor: 0 or the <c>nextCursor</c> of an earlier page; 0 when absent.</summary>
    public static long Cursor(string field, string? value, ICollection<FieldError> errors) =>
        Number(field, value, 0, 0, long.MaxValue, errors, "must be 0 or the nextCursor of an earlier pull, in digits 0-9");

    /// <summary>An event sequence to answer as of (<c>asOf</c>); null when absent.</summary>
    public static long? Sequence(string field, string? value, ICollection<FieldError> errors) =>
        value is null ? null : Number(field, value, 0, 0, long.MaxValue, errors, "must be an event sequence from an earlier result, in digits 0-9");

    /// <summary>A whole number from a query string (a page size) within range; <paramref name="fallback"/> when absent.</summary>
    public static int Count(string field, string? value, int fallback, int min, int max, ICollection<FieldError> errors) =>
        (int)Number(field, value, fallback, min, max, errors, $"must be a whole number from {min} to {max}, in digits 0-9");

    private static long Number(string field, string? value, long fallback, long min, long max, ICollection<FieldError> errors, string rule)
    {
        if (value is null) return fallback;
        if (!CountPattern().IsMatch(value) || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            errors.Add(new(field, "integer", rule));
        else if (number < min || number > max)
            errors.Add(new(field, "range", rule));
        else
            return number;
        return fallback;
    }
}

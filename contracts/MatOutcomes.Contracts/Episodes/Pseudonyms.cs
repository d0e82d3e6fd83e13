using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace MatOutcomes.Contracts.Episodes;

/// <summary>Whose pseudonym a token is; the value is the token's first character.</summary>
public enum PseudonymKind
{
    Patient = 'P',
    Practitioner = 'R',
}

/// <summary>
/// The only form a patient or practitioner pseudonym may take: an opaque token that a clinic
/// computes from its own local id under a secret it keeps, so that a name, a birth date or a
/// record number cannot be sent in its place, by accident or by a form filled in by hand.
/// <code>
/// token = kind body check                       27 characters, e.g. P… (patient), R… (practitioner)
/// kind  = "P" | "R"
/// body  = 24 characters of Crockford base32 (0-9 A-Z without I L O U, upper case): the first 15
///         bytes (120 bits) of HMAC-SHA256(key = the clinic's secret, at least 32 bytes,
///         message = UTF-8 of kind + ":" + local id), 5 bits per character, most significant first
/// check = 2 Crockford characters, a MOD 1021-32 check (ISO/IEC 7064 pure system, radix 32) over
///         kind + body: p = 0; for each character c: p = (p + value(c)) * 32 mod 1021;
///         p = p * 32 mod 1021; check = (1022 - p) mod 1021; written as value check / 32, then check % 32
/// </code>
/// Valid means exactly that shape with the check recomputed equal, which catches every single
/// wrong character and every swap of two neighbours. The platform cannot know the secret, so a
/// token is never traced back to anyone; the same secret and local id always give the same token.
/// </summary>
public static class Pseudonyms
{
    public const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    public const int BodyLength = 24;
    public const int Length = 1 + BodyLength + 2;
    public const int MinSecretBytes = 32;
    public const int CheckModulus = 1021;

    /// <summary>What a refusal says about making a good one.</summary>
    public const string HowToMake =
        "'P' (patient) or 'R' (practitioner), then 24 Crockford base32 characters (0-9, A-Z without I, L, O, U) from the " +
        "HMAC-SHA256 of the clinic's own id for the person under a secret the clinic keeps, then 2 check characters, 27 in all " +
        "(README, sync protocol; Pseudonyms.ForPatient / ForPractitioner in MatOutcomes.Contracts)";

    private static readonly int[] Values = BuildValues();

    public static string ForPatient(ReadOnlySpan<byte> secret, string localId) => For(PseudonymKind.Patient, secret, localId);

    public static string ForPractitioner(ReadOnlySpan<byte> secret, string localId) => For(PseudonymKind.Practitioner, secret, localId);

    public static string For(PseudonymKind kind, ReadOnlySpan<byte> secret, string localId)
    {
        if (secret.Length < MinSecretBytes)
            throw new ArgumentException($"the secret must be at least {MinSecretBytes} bytes (generate it once with a CSPRNG and keep it)", nameof(secret));
        ArgumentException.ThrowIfNullOrEmpty(localId);

        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes($"{(char)kind}:{localId}"), mac);
        Span<char> token = stackalloc char[Length];
        token[0] = (char)kind;
        Base32(mac[..(BodyLength * 5 / 8)], token.Slice(1, BodyLength));
        Check(token[..^2], token[^2..]);
        return new string(token);
    }

    public static bool IsValid([NotNullWhen(true)] string? token) => Problem(token, null) is null;

    public static bool IsValid([NotNullWhen(true)] string? token, PseudonymKind kind) => Problem(token, kind) is null;

    /// <summary>What is wrong with a token, in a few words, or null when it is valid (of
    /// <paramref name="kind"/>, or of either kind when null). Never repeats the value.</summary>
    public static string? Problem(string? token, PseudonymKind? kind)
    {
        if (token is null) return "is missing";
        if (token.Length != Length) return $"has {token.Length} characters, not {Length}";
        if (token[0] is not ((char)PseudonymKind.Patient or (char)PseudonymKind.Practitioner))
            return "must begin with 'P' (patient) or 'R' (practitioner)";
        if (kind is { } k && token[0] != (char)k)
            return $"must begin with '{(char)k}' ({k.ToString().ToLowerInvariant()} pseudonym)";
        foreach (var c in token.AsSpan(1))
            if (ValueOf(c) < 0) return "holds a character outside Crockford base32 (0-9, A-Z without I, L, O, U)";
        Span<char> check = stackalloc char[2];
        Check(token.AsSpan(0, Length - 2), check);
        return check.SequenceEqual(token.AsSpan(Length - 2)) ? null : "has check characters that do not match (mistyped?)";
    }

    /// <summary>The 2 check characters for a kind letter and body (25 characters).</summary>
    public static string CheckCharacters(string kindAndBody)
    {
        if (kindAndBody.Length != 1 + BodyLength || kindAndBody.Any(c => ValueOf(c) < 0))
            throw new ArgumentException($"must be {1 + BodyLength} Crockford base32 characters", nameof(kindAndBody));
        Span<char> check = stackalloc char[2];
        Check(kindAndBody, check);
        return new string(check);
    }

    internal static FieldError? Rule(string path, string? value, PseudonymKind kind) =>
        Problem(value, kind) is { } problem
            ? new FieldError(path, "pseudonym-format", $"{problem}; a {kind.ToString().ToLowerInvariant()} pseudonym is {HowToMake}")
            : null;

    private static void Check(ReadOnlySpan<char> kindAndBody, Span<char> check)
    {
        var p = 0;
        foreach (var c in kindAndBody) p = (p + Values[c]) * 32 % CheckModulus;
        p = p * 32 % CheckModulus;
        var value = (CheckModulus + 1 - p) % CheckModulus;
        check[0] = Alphabet[value / 32];
        check[1] = Alphabet[value % 32];
    }

    private static void Base32(ReadOnlySpan<byte> bytes, Span<char> into)
    {
        int buffer = 0, bits = 0, at = 0;
        foreach (var b in bytes)
        {
            buffer = ((buffer << 8) | b) & 0xFFFF;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                into[at++] = Alphabet[(buffer >> bits) & 31];
            }
        }
    }

    private static int ValueOf(char c) => c < Values.Length ? Values[c] : -1;

    private static int[] BuildValues()
    {
        var values = Enumerable.Repeat(-1, 128).ToArray();
        for (var i = 0; i < Alphabet.Length; i++) values[Alphabet[i]] = i;
        return values;
    }
}

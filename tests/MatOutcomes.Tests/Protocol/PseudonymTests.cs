using System.Security.Cryptography;
using System.Text;
using MatOutcomes.Contracts.Episodes;

namespace MatOutcomes.Tests.Protocol;

/// <summary>The pseudonym token as the contract defines it: what a clinic's software must
/// compute, and what the platform lets in.</summary>
public class PseudonymTests
{
    /// <summary>The secret of the README's worked example: bytes 0x00 to 0x1f.</summary>
    private static readonly byte[] ExampleSecret = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    private static readonly string Valid = Pseudonyms.ForPatient(ExampleSecret, "000231");

    private static readonly string Zeros = "P" + new string('0', 24) + Pseudonyms.CheckCharacters("P" + new string('0', 24));

    [Fact]
    public void The_worked_example_of_the_readme_gives_these_tokens()
    {
        // Clinic software in any language can check itself against these (an independent Python
        // implementation of the README's algorithm gives the same).
        Assert.Equal("PPK1HDBRKNVJ242RJCPXP5PG37Z", Pseudonyms.ForPatient(ExampleSecret, "000231"));
        Assert.Equal("R4NF95RAEWV5ESRT4Y5CSZ27QF4", Pseudonyms.ForPractitioner(ExampleSecret, "07"));
    }

    [Fact]
    public void A_token_is_the_kind_letter_then_the_first_120_bits_of_the_hmac_in_crockford_base32_then_the_check()
    {
        var mac = HMACSHA256.HashData(ExampleSecret, Encoding.UTF8.GetBytes("P:000231"));
        var bits = string.Concat(mac.Take(15).Select(b => Convert.ToString(b, 2).PadLeft(8, '0')));
        var body = string.Concat(Enumerable.Range(0, 24).Select(i => Pseudonyms.Alphabet[Convert.ToInt32(bits.Substring(i * 5, 5), 2)]));

        Assert.Equal("P" + body + Pseudonyms.CheckCharacters("P" + body), Valid);
        Assert.Equal(27, Valid.Length);
    }

    [Fact]
    public void The_check_makes_the_whole_token_worth_one_modulo_1021_read_as_a_base_32_number()
    {
        var value = Valid.Aggregate(0, (p, c) => (p * 32 + Pseudonyms.Alphabet.IndexOf(c)) % Pseudonyms.CheckModulus);
        Assert.Equal(1, value);
    }

    [Fact]
    public void The_same_secret_and_local_id_always_give_the_same_token_and_anything_else_another()
    {
        var otherSecret = SHA256.HashData("another clinic"u8);
        Assert.Equal(Valid, Pseudonyms.ForPatient(ExampleSecret, "000231"));
        Assert.NotEqual(Valid, Pseudonyms.ForPatient(otherSecret, "000231"));
        Assert.NotEqual(Valid, Pseudonyms.ForPatient(ExampleSecret, "000232"));
        // A patient and a practitioner with the same local id get unrelated tokens.
        Assert.NotEqual(Valid[1..25], Pseudonyms.ForPractitioner(ExampleSecret, "000231")[1..25]);
    }

    [Fact]
    public void A_patient_token_is_not_a_practitioner_token_nor_the_other_way_round()
    {
        var practitioner = Pseudonyms.ForPractitioner(ExampleSecret, "07");
        Assert.True(Pseudonyms.IsValid(Valid, PseudonymKind.Patient));
        Assert.False(Pseudonyms.IsValid(Valid, PseudonymKind.Practitioner));
        Assert.True(Pseudonyms.IsValid(practitioner, PseudonymKind.Practitioner));
        Assert.False(Pseudonyms.IsValid(practitioner, PseudonymKind.Patient));
        // Swapping the letter alone breaks the check too: the kind is inside it.
        Assert.False(Pseudonyms.IsValid("R" + Valid[1..]));
    }

    [Fact]
    public void Every_single_wrong_character_is_refused()
    {
        for (var i = 0; i < Valid.Length; i++)
            foreach (var c in Pseudonyms.Alphabet.Where(c => c != Valid[i]))
            {
                var typo = Valid[..i] + c + Valid[(i + 1)..];
                Assert.False(Pseudonyms.IsValid(typo), $"{typo} passed");
            }
    }

    [Fact]
    public void Every_swap_of_two_neighbouring_characters_is_refused()
    {
        for (var i = 0; i < Valid.Length - 1; i++)
        {
            if (Valid[i] == Valid[i + 1]) continue;
            var swapped = Valid[..i] + Valid[i + 1] + Valid[i] + Valid[(i + 2)..];
            Assert.False(Pseudonyms.IsValid(swapped), $"{swapped} passed");
        }
    }

    [Fact]
    public void Typed_strings_of_the_right_shape_pass_about_once_in_a_thousand()
    {
        var random = new Random(7);
        var passed = Enumerable.Range(0, 100_000).Count(_ =>
            Pseudonyms.IsValid("P" + new string([.. Enumerable.Range(0, 26).Select(_ => Pseudonyms.Alphabet[random.Next(32)])])));
        Assert.InRange(passed, 50, 150);
    }

    public static TheoryData<string, string> NotTokens() => new()
    {
        { "a name and a birth date", "Maria-Garcia-19850312" },
        { "a record number with a trailing newline", "P-000231\n" },
        { "a practitioner code with a trailing newline", "PR-07\n" },
        { "the old code format", "P-000231" },
        { "a token with a trailing newline", Valid + "\n" },
        { "a token with a trailing CR LF", Valid + "\r\n" },
        { "a token with a leading space", " " + Valid },
        { "a token cut short", Valid[..^1] },
        { "a token in lower case", Valid.ToLowerInvariant() },
        { "a token with a zero-width space", Valid[..10] + "\u200B" + Valid[10..] },
        { "a token with a zero-width space replacing a character", Valid[..10] + "\u200B" + Valid[11..] },
        { "a token with a full-width digit", Valid.Replace('1', '\uFF11') },
        { "a token with a Cyrillic P", "\u0420" + Valid[1..] },
        { "a token with a Greek K", Valid.Replace('K', '\u039A') },
        { "a token with an I for a 1", Valid.Replace('1', 'I') },
        { "a token with an O for a 0", Zeros[..25].Replace('0', 'O') + Zeros[25..] },
        { "an e-mail address", "jane1@example.org" },
        { "empty", "" },
    };

    [Theory]
    [MemberData(nameof(NotTokens))]
    public void Anything_but_a_token_is_refused_with_a_reason_that_does_not_repeat_it(string @case, string value)
    {
        var problem = Pseudonyms.Problem(value, PseudonymKind.Patient);
        Assert.NotNull(problem);
        Assert.False(value.Length > 3 && problem.Contains(value.Trim(), StringComparison.Ordinal), @case);
    }

    [Fact]
    public void A_short_secret_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Pseudonyms.ForPatient(new byte[16], "000231"));
        Assert.Throws<ArgumentException>(() => Pseudonyms.ForPatient(ExampleSecret, ""));
    }
}

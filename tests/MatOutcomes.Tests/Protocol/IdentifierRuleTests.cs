using System.Text.RegularExpressions;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Gateway.BrowsingEpisodes;
using MatOutcomes.Platform.Gateway.Schema;

namespace MatOutcomes.Tests.Protocol;

/// <summary>The identifiers of the protocol's URLs have one spelling each: no trailing newline
/// (.NET's <c>$</c> matches before one), no invisible, full-width or look-alike character.</summary>
public class IdentifierRuleTests
{
    public static TheoryData<string, string> NearDuplicateClinicIds() => new()
    {
        { "a trailing newline", "clinic-01\n" },
        { "a trailing CR LF", "clinic-01\r\n" },
        { "a trailing CR", "clinic-01\r" },
        { "a trailing space", "clinic-01 " },
        { "a leading space", " clinic-01" },
        { "a trailing tab", "clinic-01\t" },
        { "a NUL", "clinic-01\0" },
        { "a zero-width space", "clinic-\u200B01" },
        { "a zero-width joiner", "clinic-01\u200D" },
        { "a byte-order mark", "\uFEFFclinic-01" },
        { "a no-break space", "clinic-01\u00A0" },
        { "a soft hyphen", "clinic\u00AD01" },
        { "a right-to-left override", "clinic-01\u202E" },
        { "full-width digits", "clinic-\uFF10\uFF11" },
        { "Arabic-Indic digits", "clinic-\u0660\u0661" },
        { "a Cyrillic c", "\u0441linic-01" },
        { "a Cyrillic i", "clin\u0456c-01" },
        { "a dotless i", "cl\u0131nic-01" },
        { "a Kelvin sign", "\u212Aclinic-01" },
        { "a non-ASCII hyphen", "clinic\u201001" },
        { "upper case", "CLINIC-01" },
        { "too short", "c1" },
        { "too long", new string('a', 41) },
        { "a leading hyphen", "-clinic-01" },
        { "a slash", "clinic/01" },
        { "a dot", "clinic.01" },
        { "empty", "" },
    };

    [Theory]
    [MemberData(nameof(NearDuplicateClinicIds))]
    public void A_clinic_id_with_anything_beyond_its_rule_is_refused(string @case, string value)
    {
        Assert.False(Identifiers.IsClinicId(value), @case);
        Assert.Equal("clinic-id", Identifiers.ClinicId("clinicId", value)?.Rule);
    }

    [Theory]
    [InlineData("clinic-01")]
    [InlineData("abc")]
    [InlineData("0-0")]
    [InlineData("a234567890123456789012345678901234567890")]
    public void A_clinic_id_by_the_rule_is_accepted(string value) => Assert.True(Identifiers.IsClinicId(value));

    [Fact]
    public void Only_the_canonical_36_character_guid_is_an_episode_id()
    {
        var id = Guid.NewGuid();
        foreach (var text in new[] { id + "\n", id + "\r\n", " " + id, id + " ", "{" + id + "}", id.ToString("N"), id + "\u200B",
                     id.ToString().Replace('-', '\u2010'), Guid.Empty.ToString() })
        {
            var errors = new List<FieldError>();
            Assert.Null(Identifiers.EpisodeId("episodeId", text, errors));
            Assert.Equal("episodeId", Assert.Single(errors).Field);
        }
        Assert.Equal(id, Identifiers.EpisodeId("episodeId", id.ToString(), []));
        Assert.Equal(id, Identifiers.EpisodeId("episodeId", id.ToString().ToUpperInvariant(), []));
    }

    [Theory]
    [InlineData("5\n")]
    [InlineData(" 5")]
    [InlineData("+5")]
    [InlineData("-1")]
    [InlineData("05")]
    [InlineData("5.0")]
    [InlineData("1e3")]
    [InlineData("\uFF15")]
    [InlineData("5\u200B")]
    [InlineData("99999999999999999999")]
    [InlineData("")]
    public void A_cursor_is_digits_only_with_no_sign_padding_or_space(string value)
    {
        var errors = new List<FieldError>();
        Identifiers.Cursor("after", value, errors);
        Assert.Equal("after", Assert.Single(errors).Field);
    }

    [Fact]
    public void A_cursor_in_digits_is_read_and_an_absent_one_is_zero()
    {
        Assert.Equal(12345, Identifiers.Cursor("after", "12345", []));
        Assert.Equal(0, Identifiers.Cursor("after", "0", []));
        Assert.Equal(0, Identifiers.Cursor("after", null, []));
    }

    [Fact]
    public void An_escaped_value_shows_every_invisible_character()
    {
        Assert.Equal("clinic-01\\u000A", Identifiers.Escaped("clinic-01\n"));
        Assert.Equal("a\\u200Bb\\u005C", Identifiers.Escaped("a\u200Bb\\"));
    }

    [Fact]
    public void A_gateway_page_cursor_is_exactly_what_the_gateway_wrote()
    {
        var cursor = Cursors.Encode(new string('a', 32));
        Assert.Equal(new string('a', 32), Cursors.Decode(cursor));
        // Base64 decoding alone skips white space: each of these once read as the same cursor.
        foreach (var near in new[] { cursor + "\n", " " + cursor, cursor[..24] + "\r\n" + cursor[24..], cursor + "\u200B" })
            Assert.Equal("INVALID_CURSOR", Assert.Throws<GatewayError>(() => Cursors.Decode(near)).Code);
    }

    /// <summary>Every pattern in the contracts and the services is anchored with \z, never $:
    /// a new one written the old way fails here.</summary>
    [Fact]
    public void Every_anchored_pattern_in_the_code_ends_with_backslash_z()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "MatOutcomes.sln"))) root = Path.GetDirectoryName(root)!;
        var literal = new Regex(@"(?:GeneratedRegex|new Regex|Regex\.(?:IsMatch|Match|Matches|Replace|Split))\(\s*@?""((?:[^""\\]|\\.)*)""");
        var patterns = (
            from folder in new[] { "contracts", "services" }
            from file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories)
            where !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") &&
                  !file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
            from Match match in literal.Matches(File.ReadAllText(file))
            select (File: Path.GetRelativePath(root, file), Pattern: match.Groups[1].Value)).ToList();

        Assert.NotEmpty(patterns);
        Assert.All(patterns, p =>
        {
            Assert.False(p.Pattern.EndsWith('$'), $"{p.File}: {p.Pattern} ends with $, which matches before a final newline; use \\z");
            if (p.Pattern.StartsWith('^')) Assert.True(p.Pattern.EndsWith(@"\z"), $"{p.File}: {p.Pattern} is anchored at the start but not with \\z at the end");
        });
    }
}

using System.Text.Json.Nodes;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Gateway;

/// <summary>A smaller network of its own, so this class may add episodes without moving the
/// figures other classes check.</summary>
public sealed class GrowingNetworkFixture : NetworkFixture
{
    protected override NetworkOptions Options => base.Options with { Clinics = 3, Episodes = 600, Seed = 777 };

    public NetworkOptions Later => Options with { Seed = 778, Episodes = 300 };
}

public class GatewayReproducibilityTests(GrowingNetworkFixture fixture) : IClassFixture<GrowingNetworkFixture>
{
    private GraphQLClient Researcher => new(fixture.Client(fixture.Token(Roles.Researcher)));

    private const string Run = """
        query($name: String!, $asOf: Long) { runStudy(name: $name, asOf: $asOf) { sequence replayed study { version }
          primary { early { value lower upper n } chronic { value lower upper n } difference { estimate lower upper } adjustedDifference { estimate lower upper } }
          comparison { ...Comparison } } }
        """ + Fragments.Comparison;

    private static IEnumerable<(string Path, JsonNode? Value)> Leaves(JsonNode? node, string path = "") => node switch
    {
        JsonObject o => o.Where(p => p.Key != "replayed").SelectMany(p => Leaves(p.Value, $"{path}.{p.Key}")),
        JsonArray a => a.SelectMany((item, i) => Leaves(item, $"{path}[{i}]")),
        _ => [(path, node)],
    };

    [Fact]
    public async Task A_study_rerun_as_of_its_sequence_after_more_episodes_arrive_gives_the_original_figures()
    {
        await Researcher.QueryAsync("mutation { saveStudy(input: { name: \"durable-change\", title: \"Durable NPRS change, 26 weeks\", outcome: DURABLE_NPRS_CHANGE, filter: { chronicFromWeeks: 26 } }) { version } }");
        var first = (await Researcher.QueryAsync(Run, new { name = "durable-change" }))["runStudy"]!;
        Assert.False(first["comparison"]!["suppressed"]!.GetValue<bool>(), first["comparison"]!["suppressionReason"]?.ToString());
        var sequence = first["sequence"]!.GetValue<long>();

        await fixture.PushAsync(NetworkGenerator.Generate(fixture.Later));
        await fixture.WaitForOutcomesAsync();

        var later = (await Researcher.QueryAsync(Run, new { name = "durable-change" }))["runStudy"]!;
        Assert.True(later["sequence"]!.GetValue<long>() > sequence);
        Assert.True(later["comparison"]!["chronic"]!["patients"]!.GetValue<int>() > first["comparison"]!["chronic"]!["patients"]!.GetValue<int>());

        var reproduced = (await Researcher.QueryAsync(Run, new { name = "durable-change", asOf = sequence }))["runStudy"]!;
        Assert.True(reproduced["replayed"]!.GetValue<bool>());
        var (original, again) = (Leaves(first).ToList(), Leaves(reproduced).ToList());
        Assert.Equal(original.Select(l => l.Path), again.Select(l => l.Path));
        foreach (var ((path, a), (_, b)) in original.Zip(again))
        {
            // Bit-identical, except the cells' double sums (relief, ODI), equal to rounding.
            if (a is JsonValue va && b is JsonValue vb && va.GetValueKind() == System.Text.Json.JsonValueKind.Number && System.Text.RegularExpressions.Regex.IsMatch(path, @"\.(immediateRelief|odiChange|odiChangeDifference)\."))
                Assert.True(Math.Abs(va.GetValue<double>() - vb.GetValue<double>()) <= 1e-9, $"{path}: {a} then {b}");
            else
                Assert.True(a?.ToJsonString() == b?.ToJsonString(), $"{path}: {a?.ToJsonString()} then {b?.ToJsonString()}");
        }
    }
}

using System.Text.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;

namespace MatOutcomes.Tests.Protocol;

public class ContractTests
{
    public static TheoryData<Type> EnumTypes() => new(typeof(EventTypes).Assembly.GetTypes().Where(t => t.IsEnum && t.IsPublic));

    [Theory]
    [MemberData(nameof(EnumTypes))]
    public void Every_enum_value_the_protocol_writes_is_one_it_accepts(Type enumType)
    {
        foreach (Enum value in Enum.GetValues(enumType))
        {
            var written = JsonSerializer.SerializeToElement(value, enumType, ProtocolJson.Options);
            var errors = new FieldErrors();
            ContractShape.Check(written, enumType, "value", errors);
            Assert.True(errors.Total == 0, $"{value} written as {written.GetRawText()}: {string.Join("; ", errors.Listed)}");
            Assert.Equal(value, JsonSerializer.Deserialize(written.GetRawText(), enumType, ProtocolJson.Options));
        }
    }

    [Fact]
    public void Age_bands_travel_under_their_printed_names() =>
        Assert.Equal(["18-29", "30-39", "40-49", "50-59", "60-69", "70+"], Enum.GetValues<AgeBand>().Select(a => ProtocolJson.WireName(a)));

    [Fact]
    public void Every_event_type_has_one_stable_name_and_round_trips()
    {
        Assert.Equal(EventTypes.ByName.Count, EventTypes.ByType.Count);
        Assert.All(EventTypes.ByName.Keys, name => Assert.Matches("^[a-z-]+\\.v[0-9]+$", name));
    }
}

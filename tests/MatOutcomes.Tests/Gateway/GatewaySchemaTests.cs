using GraphQL.Types;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MatOutcomes.Tests.Gateway;

/// <summary>The schema is a published contract: it lives in schema.graphql, every type and field
/// says what it is, and enum values are the API's wire names.</summary>
public class GatewaySchemaTests(PlatformFixture fixture) : IClassFixture<PlatformFixture>
{
    private const string UpdateVariable = "UPDATE_GRAPHQL_SCHEMA";

    private GatewaySchema Schema
    {
        get
        {
            var schema = fixture.Host.Services.GetRequiredService<GatewaySchema>();
            schema.Initialize();
            return schema;
        }
    }

    private static string SchemaFile() => Repository.PathTo("services", "MatOutcomes.Platform", "Gateway", "schema.graphql");

    [Fact]
    public void The_committed_schema_file_matches_the_served_schema()
    {
        var file = SchemaFile();
        var served = Schema.Sdl();
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1") File.WriteAllText(file, served);
        var committed = File.Exists(file) ? File.ReadAllText(file).ReplaceLineEndings("\n") : "";
        Assert.True(committed == served,
            $"The GraphQL schema changed but {file} was not updated. Review the change, then run the tests once with {UpdateVariable}=1 and commit the file.");
    }

    [Fact]
    public async Task The_schema_is_served_as_sdl_to_researchers()
    {
        var response = await fixture.Client(fixture.Token(Roles.Researcher)).GetAsync("/graphql/schema.graphql");
        Assert.Equal(Schema.Sdl(), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Every_type_field_argument_and_enum_value_has_a_description()
    {
        var missing = new List<string>();
        foreach (var type in Schema.AllTypes.Where(t => !t.Name.StartsWith("__", StringComparison.Ordinal)))
        {
            if (type is ScalarGraphType && type.Name is "String" or "Int" or "Float" or "Boolean" or "ID") continue;
            if (string.IsNullOrWhiteSpace(type.Description)) missing.Add(type.Name);
            if (type is IComplexGraphType complex)
                foreach (var field in complex.Fields)
                {
                    if (string.IsNullOrWhiteSpace(field.Description)) missing.Add($"{type.Name}.{field.Name}");
                    foreach (var argument in field.Arguments ?? [])
                        if (string.IsNullOrWhiteSpace(argument.Description)) missing.Add($"{type.Name}.{field.Name}({argument.Name})");
                }
            if (type is EnumerationGraphType enumeration)
                foreach (var value in enumeration.Values)
                    if (string.IsNullOrWhiteSpace(value.Description)) missing.Add($"{type.Name}.{value.Name}");
        }
        Assert.Empty(missing);
    }

    [Fact]
    public void Enum_values_are_the_wire_names_in_upper_snake_case()
    {
        var ages = (EnumerationGraphType)Schema.AllTypes["AgeBand"]!;
        Assert.Equal(["AGE_18_29", "AGE_30_39", "AGE_40_49", "AGE_50_59", "AGE_60_69", "AGE_70_PLUS"], ages.Values.Select(v => v.Name));
        Assert.Equal(AgeBand.From70, ages.Values.Single(v => v.Name == "AGE_70_PLUS").Value);
        Assert.Contains("`70+`", ages.Values.Single(v => v.Name == "AGE_70_PLUS").Description);

        var regions = (EnumerationGraphType)Schema.AllTypes["Region"]!;
        foreach (var region in Enum.GetValues<ComplaintRegion>())
        {
            var wire = ProtocolJson.WireName(region);
            var value = regions.Values.Single(v => Equals(v.Value, region));
            Assert.Equal(wire.ToUpperInvariant().Replace('-', '_'), value.Name);
            Assert.Contains($"`{wire}`", value.Description);
        }
    }

    [Fact]
    public void No_type_exposes_an_identifier_of_a_patient_or_an_episode()
    {
        var fields = Schema.AllTypes.OfType<IComplexGraphType>().Where(t => !t.Name.StartsWith("__", StringComparison.Ordinal))
            .SelectMany(t => t.Fields.Select(f => f.Name)).ToList();
        Assert.DoesNotContain(fields, f => f.Contains("pseudonym", StringComparison.OrdinalIgnoreCase) ||
                                           f.Contains("episodeId", StringComparison.OrdinalIgnoreCase) ||
                                           f.Contains("practitioner", StringComparison.OrdinalIgnoreCase) ||
                                           f.EndsWith("Date", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task The_full_introspection_query_graphiql_sends_fits_the_depth_and_complexity_limits()
    {
        var data = await new GraphQLClient(fixture.Client(fixture.Token(Roles.Researcher))).QueryAsync(IntrospectionQuery);
        Assert.NotEmpty(data["__schema"]!["types"]!.AsArray());
    }

    /// <summary>graphql-js getIntrospectionQuery() with descriptions, as GraphiQL 3 sends it.</summary>
    private const string IntrospectionQuery = """
        query IntrospectionQuery {
          __schema {
            queryType { name } mutationType { name } subscriptionType { name }
            types { ...FullType }
            directives { name description locations args { ...InputValue } }
          }
        }
        fragment FullType on __Type {
          kind name description
          fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
          inputFields { ...InputValue }
          interfaces { ...TypeRef }
          enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
          possibleTypes { ...TypeRef }
        }
        fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type {
          kind name
          ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
        }
        """;
}

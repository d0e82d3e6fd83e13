namespace MatOutcomes.Platform.Gateway.Schema;

/// <summary>GET /graphql/schema.graphql: the schema as SDL, for tools that want a file.</summary>
public static class SchemaDocument
{
    public static IResult HandleAsync(GatewaySchema schema) =>
        TypedResults.Text(schema.Sdl(), "text/plain; charset=utf-8");
}

using GraphQL;
using GraphQL.Types;
using GraphQLParser.AST;

namespace MatOutcomes.Platform.Gateway.Limits;

/// <summary>What a document would cost if executed: its cost in the usual complexity units
/// (1 per field, list fields multiplying their children, computed studies far more), its depth, how
/// many field selections it expands to, and the distinct <c>asOf</c> sequences it asks for.</summary>
public sealed record QueryCostEstimate(double Cost, int Depth, double Fields, IReadOnlySet<string> AsOf, string? Cycle = null);

/// <summary>Measures a document before anything else looks at it. GraphQL.NET's complexity analyzer
/// walks every fragment again at each spread, so 35 levels of fragments spreading the next one twice
/// cost it 2^35 visits (53 s of CPU, outside the execution timeout, before it refused). Here each
/// fragment is measured once and its summary reused wherever it is spread; sums saturate instead of
/// overflowing, so the measure is linear in the document's length whatever it expands to.</summary>
public static class QueryCost
{
    /// <summary>Roughly what a list holds when the document does not say (GraphQL.NET's default too).</summary>
    public const double ListMultiplier = 20;

    /// <summary>Introspection is answered from memory: counted at 2%, as before.</summary>
    public const double IntrospectionImpact = 0.02;

    /// <summary>Root fields that compute a study from the cube: each costs what a thousand plain
    /// values do, so a document can ask for a few dozen, not hundreds.</summary>
    private static readonly Dictionary<string, double> ComputedFields = new(StringComparer.Ordinal)
    {
        ["cohortComparison"] = 1_000, ["kaplanMeier"] = 1_000, ["clinicBenchmarks"] = 1_000,
        ["outcomeTrends"] = 1_000, ["runStudy"] = 1_000,
    };

    private const double Saturated = 1e15;
    private const int MaxAsOfKept = 64;

    public static QueryCostEstimate Measure(ISchema schema, GraphQLDocument document, GraphQLOperationDefinition operation, Inputs? variables) =>
        new Walk(schema, document, variables).Operation(operation);

    private sealed record Summary(double Cost, int Depth, double Fields, HashSet<string> AsOf);

    private sealed class Walk(ISchema schema, GraphQLDocument document, Inputs? variables)
    {
        private readonly Dictionary<string, GraphQLFragmentDefinition> _fragments = document.Definitions
            .OfType<GraphQLFragmentDefinition>()
            .GroupBy(f => f.FragmentName.Name.StringValue)
            .ToDictionary(g => g.Key, g => g.First());
        private readonly Dictionary<string, Summary> _measured = [];
        private readonly HashSet<string> _measuring = [];
        private string? _cycle;

        public QueryCostEstimate Operation(GraphQLOperationDefinition operation)
        {
            IGraphType? root = operation.Operation switch
            {
                OperationType.Query => schema.Query,
                OperationType.Mutation => schema.Mutation,
                _ => schema.Subscription,
            };
            var summary = SelectionSet(operation.SelectionSet, root, parentFirst: null);
            return new QueryCostEstimate(summary.Cost, summary.Depth, summary.Fields, summary.AsOf, _cycle);
        }

        private Summary SelectionSet(GraphQLSelectionSet set, IGraphType? parent, double? parentFirst)
        {
            double cost = 0, fields = 0;
            var depth = 0;
            var asOf = new HashSet<string>(StringComparer.Ordinal);
            foreach (var selection in set.Selections)
            {
                var part = selection switch
                {
                    GraphQLField field => Field(field, parent, parentFirst),
                    GraphQLFragmentSpread spread => Fragment(spread.FragmentName.Name.StringValue, parentFirst),
                    GraphQLInlineFragment inline => SelectionSet(inline.SelectionSet,
                        inline.TypeCondition is { } condition ? schema.AllTypes[condition.Type.Name.StringValue] : parent, parentFirst),
                    _ => null,
                };
                if (part is null) continue;
                cost = Add(cost, part.Cost);
                fields = Add(fields, part.Fields);
                depth = Math.Max(depth, part.Depth);
                Union(asOf, part.AsOf);
            }
            return new Summary(cost, depth, fields, asOf);
        }

        private Summary Field(GraphQLField field, IGraphType? parent, double? parentFirst)
        {
            var name = field.Name.StringValue;
            var definition = name switch
            {
                "__typename" => schema.TypeNameMetaFieldType,
                "__schema" => schema.SchemaMetaFieldType,
                "__type" => schema.TypeMetaFieldType,
                _ => (parent?.GetNamedType() as IComplexGraphType)?.GetField(name),
            };
            var asOf = new HashSet<string>(StringComparer.Ordinal);
            if (Argument(field, "asOf") is { } sequence) asOf.Add(sequence);
            var first = Argument(field, "first") is { } text && double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : (double?)null;

            var introspection = name.StartsWith("__", StringComparison.Ordinal);
            var impact = introspection ? IntrospectionImpact
                : parent == schema.Query && ComputedFields.TryGetValue(name, out var computed) ? computed : 1;
            var isList = definition?.ResolvedType is ListGraphType or NonNullGraphType { ResolvedType: ListGraphType };
            // A connection's `first` sizes the lists beneath it (edges); other lists hold about 20.
            var multiplier = (isList ? parentFirst ?? ListMultiplier : 1) * (introspection ? IntrospectionImpact : 1);

            if (field.SelectionSet is null || definition is null)
                return new Summary(impact, 1, 1, asOf);
            var children = SelectionSet(field.SelectionSet, definition.ResolvedType?.GetNamedType(), first);
            Union(asOf, children.AsOf);
            return new Summary(Add(impact, Multiply(multiplier, children.Cost)), children.Depth + 1, Add(1, children.Fields), asOf);
        }

        /// <summary>Measured once per fragment (and page size it is spread under), then reused.</summary>
        private Summary Fragment(string name, double? parentFirst)
        {
            var key = $"{name}|{parentFirst}";
            if (_measured.TryGetValue(key, out var known)) return known;
            if (!_fragments.TryGetValue(name, out var definition)) return new Summary(0, 0, 0, []);
            // A cycle is invalid GraphQL (validation names it); here it must only not loop forever.
            if (!_measuring.Add(key))
            {
                _cycle ??= name;
                return new Summary(0, 0, 0, []);
            }
            var type = schema.AllTypes[definition.TypeCondition.Type.Name.StringValue];
            var summary = SelectionSet(definition.SelectionSet, type, parentFirst);
            _measuring.Remove(key);
            return _measured[key] = summary;
        }

        /// <summary>An argument's literal value, or its variable's value from the request; a variable
        /// with no value counts by its name, so it is still one distinct value.</summary>
        private string? Argument(GraphQLField field, string name)
        {
            var argument = field.Arguments?.Items.FirstOrDefault(a => a.Name.StringValue == name);
            return argument?.Value switch
            {
                null => null,
                GraphQLIntValue i => i.Value.ToString(),
                GraphQLVariable v => variables?.TryGetValue(v.Name.StringValue, out var value) == true && value is not null
                    ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)
                    : "$" + v.Name.StringValue,
                GraphQLNullValue => null,
                var other => other.ToString(),
            };
        }
    }

    private static double Add(double a, double b) => Math.Min(Saturated, a + b);
    private static double Multiply(double a, double b) => Math.Min(Saturated, a * b);

    private static void Union(HashSet<string> into, HashSet<string> from)
    {
        foreach (var value in from)
        {
            if (into.Count >= MaxAsOfKept) return;
            into.Add(value);
        }
    }
}

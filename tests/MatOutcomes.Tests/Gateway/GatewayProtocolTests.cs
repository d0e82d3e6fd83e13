using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Marten;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Gateway.Auditing;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MatOutcomes.Tests.Gateway;

/// <summary>GraphQL over HTTP as the spec has it, through the real pipeline: media types and
/// status codes for every error class, methods, limits, auth and the audit trail.</summary>
public class GatewayProtocolTests(PlatformFixture fixture) : IClassFixture<PlatformFixture>
{
    private GraphQLClient Researcher => new(fixture.Client(fixture.Token(Roles.Researcher)));

    private const string Status = "{ readModel { k sequence lagEvents } }";

    [Fact]
    public async Task A_query_over_POST_is_answered_200_as_graphql_response_json()
    {
        var reply = await Researcher.PostAsync(Status);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(GraphQLClient.Modern, reply.MediaType);
        Assert.Equal("utf-8", reply.Response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(11, reply.Data["readModel"]!["k"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_query_over_GET_takes_variables_operation_name_and_extensions()
    {
        const string document = "query Other { readModel { k } } query Find($name: String!) { study(name: $name) { name } }";
        var reply = await Researcher.GetAsync(document, new { name = "no-such-study" }, "Find");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Null(reply.Data["study"]);
        Assert.Null(reply.Data["readModel"]);

        var withExtensions = await Researcher.PostRawAsync("""{"query":"{ readModel { k } }","variables":null,"operationName":null,"extensions":{"trace":true}}""");
        Assert.Equal(HttpStatusCode.OK, withExtensions.Status);
    }

    [Theory]
    [InlineData(null, GraphQLClient.Legacy)]
    [InlineData("*/*", GraphQLClient.Legacy)]
    [InlineData("application/*", GraphQLClient.Legacy)]
    [InlineData("application/json, text/plain, */*", GraphQLClient.Legacy)]
    [InlineData("application/json", GraphQLClient.Legacy)]
    [InlineData("application/graphql-response+json", GraphQLClient.Modern)]
    [InlineData("application/graphql-response+json, */*", GraphQLClient.Modern)]
    [InlineData("application/graphql-response+json, application/json", GraphQLClient.Modern)]
    [InlineData("application/graphql-response+json, application/json;q=0.9", GraphQLClient.Modern)]
    [InlineData("application/graphql-response+json;q=0.5, application/json", GraphQLClient.Legacy)]
    [InlineData("application/json;q=0, */*", GraphQLClient.Modern)]
    public async Task The_response_media_type_follows_the_accept_header(string? accept, string expected)
    {
        var reply = await Researcher.PostAsync(Status, accept: accept);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(expected, reply.MediaType);
    }

    [Fact]
    public async Task An_accept_header_allowing_neither_media_type_is_refused_406()
    {
        var reply = await Researcher.PostAsync(Status, accept: "text/html");
        Assert.Equal(HttpStatusCode.NotAcceptable, reply.Status);
        Assert.Equal("application/problem+json", reply.MediaType);
    }

    [Fact]
    public async Task A_parse_error_is_400_under_the_new_media_type_and_200_under_legacy_json()
    {
        var modern = await Researcher.PostAsync("{ readModel { k ");
        Assert.Equal(HttpStatusCode.BadRequest, modern.Status);
        Assert.Equal(GraphQLClient.Modern, modern.MediaType);
        Assert.Null(modern.Body!["data"]);
        Assert.Equal("SYNTAX_ERROR", modern.FirstErrorCode);

        var legacy = await Researcher.PostAsync("{ readModel { k ", accept: GraphQLClient.Legacy);
        Assert.Equal(HttpStatusCode.OK, legacy.Status);
        Assert.Equal(GraphQLClient.Legacy, legacy.MediaType);
        Assert.NotNull(legacy.Errors);
    }

    [Fact]
    public async Task A_validation_error_is_400_under_the_new_media_type_and_200_under_legacy_json()
    {
        const string wrongArgumentType = "{ study(name: 42) { name } }";
        var modern = await Researcher.PostAsync(wrongArgumentType);
        Assert.Equal(HttpStatusCode.BadRequest, modern.Status);
        Assert.False(modern.Body!.AsObject().ContainsKey("data"));
        Assert.NotNull(modern.Errors);

        var legacy = await Researcher.PostAsync(wrongArgumentType, accept: GraphQLClient.Legacy);
        Assert.Equal(HttpStatusCode.OK, legacy.Status);
        Assert.NotNull(legacy.Errors);
    }

    [Fact]
    public async Task An_unknown_field_is_a_validation_error_naming_the_field()
    {
        var reply = await Researcher.PostAsync("{ readModel { k patientNames } }");
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains("patientNames", reply.Errors![0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_missing_variable_is_a_request_error()
    {
        var reply = await Researcher.PostAsync("query($name: String!) { study(name: $name) { name } }");
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.NotNull(reply.Errors);
    }

    [Fact]
    public async Task A_mutation_over_GET_is_refused_405_and_changes_nothing()
    {
        const string save = "mutation { saveStudy(input: { name: \"over-get\", title: \"t\", outcome: DURABLE_NPRS_CHANGE }) { version } }";
        var reply = await Researcher.GetAsync(save);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, reply.Status);
        Assert.Equal("POST", reply.Response.Content.Headers.Allow.Single());
        Assert.Equal("METHOD_NOT_ALLOWED", reply.FirstErrorCode);

        var stored = await Researcher.QueryAsync("{ study(name: \"over-get\") { version } }");
        Assert.Null(stored["study"]);
    }

    [Theory]
    [InlineData("{\"query\": ")]
    [InlineData("[{\"query\": \"{ readModel { k } }\"}]")]
    [InlineData("{\"query\": 42}")]
    [InlineData("{\"variables\": {}}")]
    [InlineData("{\"query\": \"{ readModel { k } }\", \"variables\": \"not-an-object\"}")]
    public async Task A_body_that_is_not_a_graphql_request_is_400_under_either_media_type(string body)
    {
        foreach (var accept in new[] { GraphQLClient.Modern, GraphQLClient.Legacy })
        {
            var reply = await Researcher.PostRawAsync(body, accept: accept);
            Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{accept}: {(int)reply.Status} {reply.Text}");
            Assert.NotNull(reply.Errors);
        }
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_refused_415()
    {
        var reply = await Researcher.PostRawAsync("{ readModel { k } }", contentType: "application/graphql");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, reply.Status);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_is_refused_413_before_it_is_parsed()
    {
        var padding = new string(' ', 70 * 1024);
        var reply = await Researcher.PostRawAsync("{\"query\": \"{ readModel { k } }" + padding + "\"}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, reply.Status);
        Assert.Equal("REQUEST_TOO_LARGE", reply.FirstErrorCode);
    }

    [Fact]
    public async Task Introspection_describes_the_schema()
    {
        var data = await Researcher.QueryAsync("{ __schema { queryType { name } mutationType { name } types { name description } } }");
        Assert.Equal("Query", data["__schema"]!["queryType"]!["name"]!.GetValue<string>());
        var types = data["__schema"]!["types"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("CohortComparison", types);
        Assert.Contains("EpisodeRowConnection", types);
    }

    [Fact]
    public async Task Without_a_token_the_answer_is_401_problem_details()
    {
        var anonymous = new GraphQLClient(fixture.Host.Server.CreateClient());
        var reply = await anonymous.PostAsync(Status);
        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("application/problem+json", reply.MediaType);
    }

    [Fact]
    public async Task A_clinic_or_manager_token_is_forbidden_and_an_admin_token_is_allowed()
    {
        foreach (var role in new[] { Roles.Clinic, Roles.Manager })
        {
            var reply = await new GraphQLClient(fixture.Client(fixture.Token(role, "clinic-01"))).PostAsync(Status);
            Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
        }
        var admin = await new GraphQLClient(fixture.Client(fixture.Token(Roles.Admin))).PostAsync(Status);
        Assert.Equal(HttpStatusCode.OK, admin.Status);
    }

    [Fact]
    public async Task A_document_deeper_than_the_limit_is_refused_before_it_runs()
    {
        var deep = "{ __schema { types { fields { type { " + string.Concat(Enumerable.Repeat("ofType { ", 14)) + "name" +
                   new string('}', 14) + " } } } } }";
        var reply = await Researcher.PostAsync(deep);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains("depth", reply.Errors![0]!["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_document_over_the_complexity_budget_is_refused_before_it_runs()
    {
        var aliases = string.Join(" ", Enumerable.Range(0, 20).Select(i =>
            $"p{i}: episodes(first: 500) {{ edges {{ cursor node {{ cohort status clinic region sex ageBand baselineNprs latestNprs sessions }} }} }}"));
        var reply = await Researcher.PostAsync("{ " + aliases + " }");
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains("complexity", reply.Errors![0]!["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Every_request_leaves_an_audit_entry_with_who_what_when_and_how_much()
    {
        var subject = $"researcher-{Guid.NewGuid():N}";
        var client = new GraphQLClient(fixture.Client(fixture.Host.Services.GetRequiredService<TokenIssuer>()
            .Mint(subject, Roles.Researcher, [], TimeSpan.FromMinutes(5))));
        const string query = "query AuditMe { readModel { k } clinics { id episodes } }";
        var before = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(query)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("{ nope }")).Status);

        var store = fixture.Host.Services.GetRequiredService<IDocumentStore>();
        Assert.Equal(JasperFx.MultiTenancy.TenancyStyle.Single, store.Options.FindOrResolveDocumentType(typeof(GatewayAuditEntry)).TenancyStyle);
        Assert.Equal(JasperFx.MultiTenancy.TenancyStyle.Single, store.Options.FindOrResolveDocumentType(typeof(MatOutcomes.Platform.Gateway.SavingStudies.SavedStudy)).TenancyStyle);
        await using var session = store.QuerySession();
        var entries = await session.Query<GatewayAuditEntry>().Where(e => e.Subject == subject).OrderBy(e => e.At).ToListAsync();
        Assert.Equal(2, entries.Count);
        var ok = entries[0];
        Assert.Equal(("AuditMe", "query", "ok", Roles.Researcher, "POST"), (ok.OperationName, ok.OperationType, ok.Outcome, ok.Role, ok.HttpMethod));
        Assert.Equal(query, ok.Query);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(query))), ok.QueryHash);
        Assert.InRange(ok.At, before.AddSeconds(-1), DateTimeOffset.UtcNow);
        Assert.True(ok.DurationMs > 0);
        Assert.Equal(0, ok.RowsReturned);
        Assert.Single(ok.Sequences);
        Assert.Equal(("request-error", 1), (entries[1].Outcome, entries[1].ErrorCount));
    }

    [Fact]
    public async Task An_empty_network_answers_every_query_with_withheld_figures_not_errors()
    {
        var data = await Researcher.QueryAsync("""
            { clinics { id } episodes { totalCount edges { cursor } }
              cohortComparison(filter: { clinics: ["no-such-clinic"] }) { suppressed early { patients } adjustedDurableChangeDifference { suppressed } benchmarks { clinic } }
              kaplanMeier { curves { estimate { suppressed } } } clinicBenchmarks { clinics { clinic } } outcomeTrends { quarters } }
            """);
        Assert.Empty(data["clinics"]!.AsArray());
        Assert.Equal(0, data["episodes"]!["totalCount"]!.GetValue<int>());
        Assert.True(data["cohortComparison"]!["adjustedDurableChangeDifference"]!["suppressed"]!.GetValue<bool>());
        Assert.All(data["kaplanMeier"]!["curves"]!.AsArray(), c => Assert.True(c!["estimate"]!["suppressed"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task Other_methods_are_not_allowed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/graphql") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Token(Roles.Researcher));
        var response = await fixture.Host.Server.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}

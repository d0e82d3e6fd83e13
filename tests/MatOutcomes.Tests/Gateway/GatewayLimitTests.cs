using System.Diagnostics;
using System.Net;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace MatOutcomes.Tests.Gateway;

/// <summary>A platform whose gateway allows 5 requests a minute per token subject and gives a
/// request 300 ms to run.</summary>
public sealed class TightLimitsFixture : PlatformFixture
{
    public const int PermitLimit = 5;

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Gateway:RateLimit:PermitLimit", PermitLimit.ToString());
        builder.UseSetting("Gateway:RateLimit:Window", "00:01:00");
        builder.UseSetting("Gateway:ExecutionTimeout", "00:00:00.300");
    }

    public GraphQLClient As(string subject) =>
        new(Client(Host.Services.GetRequiredService<TokenIssuer>().Mint(subject, Roles.Researcher, [], TimeSpan.FromMinutes(5))));
}

public class GatewayLimitTests(TightLimitsFixture fixture) : IClassFixture<TightLimitsFixture>
{
    [Fact]
    public async Task A_token_over_its_rate_limit_gets_429_problem_details_while_other_tokens_carry_on()
    {
        var busy = fixture.As($"busy-{Guid.NewGuid():N}");
        for (var i = 0; i < TightLimitsFixture.PermitLimit; i++)
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await busy.PostAsync("{ __typename }")).Status);

        var refused = await busy.PostAsync("{ __typename }");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal("application/problem+json", refused.MediaType);
        Assert.Equal("urn:matoutcomes:problem:rate-limited", refused.Body!["type"]!.GetValue<string>());
        Assert.True(refused.Response.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        var other = await fixture.As($"other-{Guid.NewGuid():N}").PostAsync("{ __typename }");
        Assert.Equal(HttpStatusCode.OK, other.Status);
    }

    [Fact]
    public async Task A_request_that_runs_past_the_execution_timeout_is_answered_504_with_a_timeout_error()
    {
        // Asking for an earlier release looks it up among the stored releases: hold them, and it must wait.
        await fixture.As($"warm-{Guid.NewGuid():N}").PostAsync("{ clinics { id } }");
        await using var blocker = new NpgsqlConnection(fixture.ConnectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("lock table matoutcomes.mt_doc_outcomerelease in access exclusive mode", blocker, transaction))
            await lockTable.ExecuteNonQueryAsync();

        var started = Stopwatch.StartNew();
        var reply = await fixture.As($"slow-{Guid.NewGuid():N}").PostAsync("{ cohortComparison(asOf: 12345) { k } }");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"took {started.Elapsed}");
        Assert.Equal(HttpStatusCode.GatewayTimeout, reply.Status);
        Assert.Equal("TIMEOUT", reply.FirstErrorCode);
        Assert.Null(reply.Body!["data"]);
    }
}

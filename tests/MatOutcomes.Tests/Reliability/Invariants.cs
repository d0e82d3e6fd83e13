using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Platform.Auth;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Simulator.Network;
using MatOutcomes.Tests.Support;
using Npgsql;

namespace MatOutcomes.Tests.Reliability;

/// <summary>What every fault test checks once the faults are over: no acknowledged write lost, no
/// event id twice, every stream's versions contiguous, projection progress never past the highest
/// committed event, and read models equal to a fresh replay of the log (compared through the public
/// study endpoint: live figures against the same sequence replayed).</summary>
public static class Invariants
{
    public static async Task AssertAllAsync(string connectionString, SimulatedNetwork acknowledged, IPlatform platform)
    {
        await AssertStoreAsync(connectionString, acknowledged);
        var status = await new NetworkFixture.Pusher(platform).WaitForOutcomesAsync(TimeSpan.FromSeconds(120));
        await AssertProgressAsync(connectionString);
        await AssertReadModelsEqualReplayAsync(platform, status.OutcomesSequence);
    }

    /// <summary>Every acknowledged event stored exactly once, in the clinic and episode it was sent
    /// to, at the position it was sent with; every stream's versions run 1..n without a gap.</summary>
    public static async Task AssertStoreAsync(string connectionString, SimulatedNetwork acknowledged)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var stored = new List<(string Tenant, Guid Stream, Guid Id, long Version)>();
        await using (var command = new NpgsqlCommand("select tenant_id, stream_id, id, version from matoutcomes.mt_events", connection))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) stored.Add((reader.GetString(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetInt64(3)));

        var duplicates = stored.GroupBy(e => (e.Tenant, e.Id)).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"{duplicates.Count} event ids stored twice, e.g. {duplicates.FirstOrDefault()}");

        var byId = stored.ToDictionary(e => (e.Tenant, e.Id));
        var lost = acknowledged.Episodes.SelectMany(episode => episode.Events.Select(e => (episode, e.Envelope)))
            .Where(x => !byId.TryGetValue((x.episode.ClinicId, x.Envelope.EventId), out var s) || s.Stream != x.episode.Id || s.Version != x.Envelope.Position)
            .ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged events missing or misplaced, e.g. {lost.FirstOrDefault().Envelope?.EventId}");

        var gaps = stored.GroupBy(e => (e.Tenant, e.Stream))
            .Where(g => !g.Select(e => e.Version).Order().SequenceEqual(Enumerable.Range(1, g.Count()).Select(v => (long)v)))
            .Select(g => g.Key).ToList();
        Assert.True(gaps.Count == 0, $"{gaps.Count} streams with versions that are not 1..n, e.g. {gaps.FirstOrDefault()}");
        Assert.Equal(acknowledged.EventCount, stored.Count);
    }

    /// <summary>No projection or subscription has recorded progress past the highest committed event.</summary>
    public static async Task AssertProgressAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select p.name, p.last_seq_id, (select coalesce(max(seq_id), 0) from matoutcomes.mt_events) " +
            "from matoutcomes.mt_event_progression p where p.name <> 'HighWaterMark'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            Assert.True(reader.GetInt64(1) <= reader.GetInt64(2),
                $"{reader.GetString(0)} claims progress {reader.GetInt64(1)} past the highest committed event {reader.GetInt64(2)}");
    }

    /// <summary>The live read models answer exactly what a replay of the log up to the same sequence
    /// answers, for a plain study and one over every episode.</summary>
    public static async Task AssertReadModelsEqualReplayAsync(IPlatform platform, long sequence)
    {
        using var client = platform.Client(platform.Token(Roles.Admin));
        foreach (var study in new[] { "{}", """{"chronicFromWeeks":26}""" })
        {
            var live = await StudyAsync(client, "api/studies/cohort-comparison", study);
            Assert.Equal(sequence, live.GetProperty("sequence").GetInt64());
            var replayed = await StudyAsync(client, $"api/studies/cohort-comparison?asOf={sequence}", study);
            AssertSameJson(live, replayed, "$");
        }
    }

    /// <summary>Samples the projection status while faults happen: progress may trail the log but
    /// never pass it. Failed samples (the platform is down) are skipped.</summary>
    public static async Task WatchProgressAsync(Func<IPlatform> platform, List<string> violations, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var current = platform();
                using var client = current.Client(current.Token(Roles.Admin));
                client.Timeout = TimeSpan.FromSeconds(5);
                var status = await client.GetFromJsonAsync<ProjectionStatus>("api/projections/outcomes", ProtocolJson.Options, stop);
                if (status!.OutcomesSequence > status.HighestEventSequence) lock (violations) violations.Add(status.ToString());
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
            }
            await Task.Delay(250, CancellationToken.None);
        }
    }

    private static async Task<JsonElement> StudyAsync(HttpClient client, string path, string body)
    {
        var response = await client.PostAsync(path, PlatformFixture.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Equal values; numbers to 1e-9 relative (cells sum a few moments as doubles, whose last
    /// bits depend on the order episodes arrived in).</summary>
    private static void AssertSameJson(JsonElement expected, JsonElement actual, string path)
    {
        Assert.True(expected.ValueKind == actual.ValueKind, $"{path}: {expected.ValueKind} live, {actual.ValueKind} replayed");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var names = expected.EnumerateObject().Select(p => p.Name).ToHashSet();
                Assert.True(names.SetEquals(actual.EnumerateObject().Select(p => p.Name)), $"{path}: members differ");
                foreach (var property in expected.EnumerateObject())
                    AssertSameJson(property.Value, actual.GetProperty(property.Name), $"{path}.{property.Name}");
                break;
            case JsonValueKind.Array:
                Assert.True(expected.GetArrayLength() == actual.GetArrayLength(), $"{path}: lengths differ");
                for (var i = 0; i < expected.GetArrayLength(); i++) AssertSameJson(expected[i], actual[i], $"{path}[{i}]");
                break;
            case JsonValueKind.Number:
                var (a, b) = (expected.GetDouble(), actual.GetDouble());
                Assert.True(Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b))), $"{path}: {a} live, {b} replayed");
                break;
            default:
                Assert.True(expected.GetRawText() == actual.GetRawText(), $"{path}: {expected.GetRawText()} live, {actual.GetRawText()} replayed");
                break;
        }
    }
}

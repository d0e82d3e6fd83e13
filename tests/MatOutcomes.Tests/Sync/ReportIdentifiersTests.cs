using System.Text.Json;
using JasperFx;
using Marten;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Storage;
using MatOutcomes.Platform.Sync.ReportingIdentifiers;
using MatOutcomes.Tests.Support;
using Npgsql;

namespace MatOutcomes.Tests.Sync;

/// <summary>The <c>report-identifiers</c> command over an event log that holds what the API now
/// refuses, appended straight through Marten as older versions of the platform stored it.</summary>
public class ReportIdentifiersTests : IAsyncLifetime
{
    private const string Name = "Maria-Garcia-19850312";
    private static readonly string[] Secrets = [Name, "Maria", "Garcia", "19850312", "000231", "PR-07"];

    private readonly string _clinic = PlatformFixture.NewClinic();
    private readonly string _clean = PlatformFixture.NewClinic();
    private readonly EpisodeScript _named = new EpisodeScript().Add(Sample.Opened() with { PatientPseudonym = Name },
        Sample.Session() with { PractitionerPseudonym = "PR-07\n" });
    private readonly EpisodeScript _newline = new EpisodeScript().Add(Sample.Opened() with { PatientPseudonym = "P-000231\n" }, Sample.Session());
    private readonly EpisodeScript _namedAgain = new EpisodeScript().Add(Sample.Opened() with { PatientPseudonym = Name });
    private string _database = "";

    public async Task InitializeAsync()
    {
        _database = await TestCluster.NewDatabaseAsync(nameof(ReportIdentifiersTests));
        await AppendAsync(_database,
            (_clinic, [_named, _newline, new EpisodeScript().Add(Sample.Opened(), Sample.Session()), _namedAgain]),
            ("clinic-01\n", [new EpisodeScript().Add(Sample.Opened())]),
            (_clean, [new EpisodeScript().Add(Sample.Opened(), Sample.Session(), Sample.Discharged())]));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task The_report_lists_per_clinic_the_clinic_ids_and_pseudonyms_that_break_the_rules_with_where_they_are()
    {
        var report = await ScanAsync(_database);

        Assert.False(report.Clean);
        Assert.Equal((11L, 3), (report.Events, report.Clinics));
        // Both sides sorted: the random clinic id sorts before "clinic-01…" when it starts "clinic-00".
        Assert.Equal(new[] { "clinic-01\\u000A", _clinic }.Order(StringComparer.Ordinal), report.Findings.Select(f => f.Clinic).Order(StringComparer.Ordinal));

        var clinic = report.Findings.Single(f => f.Clinic == _clinic);
        Assert.Null(clinic.ClinicIdProblem);
        Assert.Equal((3L, 2), (clinic.Patients.Events, clinic.Patients.DistinctValues));
        Assert.Equal([_named.Id, _newline.Id, _namedAgain.Id], clinic.Patients.Examples.Select(e => e.EpisodeId));
        Assert.Equal([_named.Events[0].EventId, _newline.Events[0].EventId, _namedAgain.Events[0].EventId], clinic.Patients.Examples.Select(e => e.EventId));
        Assert.Equal("Aaaaa-Aaaaaa-99999999", clinic.Patients.Examples[0].Shape);
        Assert.Contains(clinic.Patients.Examples[0].Hints, h => h.Contains("8 digits"));
        Assert.Equal("A-999999\\u000A", clinic.Patients.Examples[1].Shape);
        Assert.Equal((1L, 1), (clinic.Practitioners.Events, clinic.Practitioners.DistinctValues));
        Assert.Equal(_named.Events[1].EventId, Assert.Single(clinic.Practitioners.Examples).EventId);

        var nearDuplicate = report.Findings.Single(f => f.Clinic == "clinic-01\\u000A");
        Assert.NotNull(nearDuplicate.ClinicIdProblem);
        Assert.Equal((1L, 1L, 0L, 0L), (nearDuplicate.Events, nearDuplicate.Episodes, nearDuplicate.Patients.Events, nearDuplicate.Practitioners.Events));
    }

    [Fact]
    public async Task The_command_exits_non_zero_and_never_prints_a_stored_value()
    {
        var (exit, text, errors) = await RunAsync(_database);
        var file = Path.Combine(Path.GetTempPath(), $"report-identifiers-{Guid.NewGuid():N}.json");
        var (jsonExit, _, _) = await RunAsync(_database, "--json", file, "--examples", "1");
        var json = await File.ReadAllTextAsync(file);
        File.Delete(file);

        Assert.True(exit != 0, text + errors);
        Assert.Contains($"clinic '{_clinic}'", text);
        Assert.Contains("clinic 'clinic-01\\u000A'", text);
        Assert.Contains(_named.Events[0].EventId.ToString(), text);
        Assert.Contains("2 patient pseudonyms in 3 events", text);
        foreach (var secret in Secrets)
        {
            Assert.DoesNotContain(secret, text);
            Assert.DoesNotContain(secret, json);
        }

        Assert.True(jsonExit != 0, json);
        using var parsed = JsonDocument.Parse(json);
        Assert.Equal(2, parsed.RootElement.GetProperty("findings").GetArrayLength());
        Assert.All(parsed.RootElement.GetProperty("findings").EnumerateArray(),
            f => Assert.True(f.GetProperty("patients").GetProperty("examples").GetArrayLength() <= 1));
    }

    [Fact]
    public async Task A_log_that_meets_the_rules_gives_a_clean_report_and_exit_code_zero()
    {
        var database = await TestCluster.NewDatabaseAsync("ReportIdentifiersClean");
        await AppendAsync(database, (_clean, [new EpisodeScript().Add(Sample.Opened(), Sample.Session(), Sample.Discharged())]));

        var (exit, text, errors) = await RunAsync(database);

        Assert.True(exit == 0, text + errors);
        Assert.Contains("Nothing to report", text);
    }

    private static async Task AppendAsync(string database, params (string Clinic, EpisodeScript[] Episodes)[] clinics)
    {
        using var store = DocumentStore.For(options =>
        {
            EventStoreExtensions.ConfigureEvents(options, database);
            options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        });
        foreach (var (clinic, episodes) in clinics)
        {
            await using var session = store.LightweightSession(clinic);
            foreach (var episode in episodes)
                session.Events.StartStream(episode.Id, [.. episode.Events.Select(e =>
                {
                    var built = session.Events.BuildEvent(EventFrom(e));
                    built.Id = e.EventId;
                    return (object)built;
                })]);
            await session.SaveChangesAsync();
        }
    }

    private static object EventFrom(Contracts.Sync.EventEnvelope envelope) =>
        envelope.Data.Deserialize(EventTypes.ByName[envelope.Type], Contracts.ProtocolJson.Options)!;

    private static async Task<IdentifierReport> ScanAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        return await IdentifierScan.RunAsync(connection, 5, CancellationToken.None);
    }

    /// <summary>The command as operators run it: the platform's build output, its configuration from the environment.</summary>
    private static Task<(int ExitCode, string Output, string Errors)> RunAsync(string database, params string[] arguments) =>
        CommandLine.RunAsync(typeof(Program).Assembly.Location, ["report-identifiers", .. arguments], database, TimeSpan.FromMinutes(2));
}

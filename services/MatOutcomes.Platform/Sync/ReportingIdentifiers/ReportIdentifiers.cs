using System.Text;
using System.Text.Json;
using JasperFx.CommandLine;
using Marten;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Storage;
using Npgsql;

namespace MatOutcomes.Platform.Sync.ReportingIdentifiers;

/// <summary>Where a stored pseudonym that breaks the format is: enough for the clinic to find it,
/// never the value itself (only its shape: <c>A</c> upper-case letter, <c>a</c> lower-case, <c>9</c> digit).</summary>
public sealed record PseudonymExample(Guid EpisodeId, Guid EventId, long Sequence, string Shape, string Problem, IReadOnlyList<string> Hints);

public sealed record PseudonymFindings(long Events, int DistinctValues, IReadOnlyList<PseudonymExample> Examples)
{
    public static readonly PseudonymFindings None = new(0, 0, []);
}

/// <summary>One clinic (Marten tenant) that holds something to act on. <c>Clinic</c> is escaped
/// (<see cref="Identifiers.Escaped"/>) so a newline or an invisible character shows.</summary>
public sealed record ClinicFindings(string Clinic, string? ClinicIdProblem, long Events, long Episodes,
    PseudonymFindings Patients, PseudonymFindings Practitioners);

public sealed record IdentifierReport(long Events, int Clinics, IReadOnlyList<ClinicFindings> Findings)
{
    public bool Clean => Findings.Count == 0;
}

/// <summary>Reads the whole event log and reports, per clinic, stored identifiers that break
/// today's rules: clinic ids outside the clinic-id rule, and patient or practitioner pseudonyms
/// that are not the keyed-hash token. The log is append-only, so what got in before the rules
/// stays in; this says where, so the network can act on it. Reads only.</summary>
public static class IdentifierScan
{
    // The events that carry a pseudonym, and under which member, found from the contracts so a
    // new event version with a pseudonym is scanned too.
    private static readonly (string Type, string Member, PseudonymKind Kind)[] Carriers =
    [
        .. EventTypes.ByName.Where(e => e.Value.GetProperty(nameof(EpisodeOpened.PatientPseudonym)) is not null)
            .Select(e => (e.Key, "patientPseudonym", PseudonymKind.Patient)),
        .. EventTypes.ByName.Where(e => e.Value.GetProperty(nameof(SessionRecorded.PractitionerPseudonym)) is not null)
            .Select(e => (e.Key, "practitionerPseudonym", PseudonymKind.Practitioner)),
    ];

    public static async Task<IdentifierReport> RunAsync(NpgsqlConnection connection, int examples, CancellationToken cancellation)
    {
        const string events = $"{EventStoreExtensions.Schema}.mt_events";
        await using (var exists = new NpgsqlCommand($"select to_regclass('{events}') is not null", connection))
            if (!(bool)(await exists.ExecuteScalarAsync(cancellation))!)
                return new IdentifierReport(0, 0, []);

        var clinics = new SortedDictionary<string, Tally>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(
                         $"select tenant_id, count(*), count(distinct stream_id) from {events} group by tenant_id", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellation))
            while (await reader.ReadAsync(cancellation))
                clinics[reader.GetString(0)] = new Tally(reader.GetInt64(1), reader.GetInt64(2), new(examples), new(examples));

        var members = string.Join(", ", Carriers.Select(c => c.Member).Distinct().Select(m => $"data ->> '{m}'"));
        await using (var command = new NpgsqlCommand(
                         $"select tenant_id, stream_id, id, seq_id, type, {members} from {events} where type = any(@types) order by seq_id", connection))
        {
            command.Parameters.AddWithValue("types", Carriers.Select(c => c.Type).Distinct().ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            var columns = Carriers.Select(c => c.Member).Distinct().ToList();
            while (await reader.ReadAsync(cancellation))
            {
                var type = reader.GetString(4);
                foreach (var carrier in Carriers.Where(c => c.Type == type))
                {
                    var column = 5 + columns.IndexOf(carrier.Member);
                    var value = reader.IsDBNull(column) ? null : reader.GetString(column);
                    if (Pseudonyms.Problem(value, carrier.Kind) is not { } problem) continue;
                    var tally = clinics[reader.GetString(0)];
                    (carrier.Kind == PseudonymKind.Patient ? tally.Patients : tally.Practitioners)
                        .Add(value, new PseudonymExample(reader.GetGuid(1), reader.GetGuid(2), reader.GetInt64(3), Shape(value), problem, Hints(value)));
                }
            }
        }

        var findings = clinics
            .Select(c => new ClinicFindings(Identifiers.Escaped(c.Key), Identifiers.IsClinicId(c.Key) ? null : Identifiers.ClinicIdRule,
                c.Value.Events, c.Value.Episodes, c.Value.Patients.Findings(), c.Value.Practitioners.Findings()))
            .Where(f => f.ClinicIdProblem is not null || f.Patients.Events > 0 || f.Practitioners.Events > 0)
            .ToList();
        return new IdentifierReport(clinics.Values.Sum(c => c.Events), clinics.Count, findings);
    }

    /// <summary>The value's shape without its content: letters and digits become <c>A</c>,
    /// <c>a</c> and <c>9</c>, other printable ASCII stays, anything else is written <c>\uXXXX</c>.</summary>
    public static string Shape(string? value, int max = 40)
    {
        if (value is null) return "(missing)";
        var shape = new StringBuilder();
        foreach (var c in value.Take(max))
            shape.Append(c switch
            {
                >= 'A' and <= 'Z' => "A",
                >= 'a' and <= 'z' => "a",
                >= '0' and <= '9' => "9",
                '\\' => "\\u005C",
                >= ' ' and <= '~' => c.ToString(),
                _ => $"\\u{(int)c:X4}",
            });
        return value.Length > max ? $"{shape}...(+{value.Length - max})" : shape.ToString();
    }

    /// <summary>What the value may hold, so the worst can be dealt with first.</summary>
    public static IReadOnlyList<string> Hints(string? value)
    {
        if (value is null) return [];
        var hints = new List<string>();
        var digits = 0;
        var longest = 0;
        foreach (var c in value) longest = Math.Max(longest, digits = char.IsAsciiDigit(c) ? digits + 1 : 0);
        if (longest >= 6) hints.Add($"a run of {longest} digits (a date, a phone or record number?)");
        if (value.Any(char.IsAsciiLetterLower) && value.Any(char.IsAsciiLetterUpper)) hints.Add("mixed-case letters (a name?)");
        if (value.Contains('@')) hints.Add("an '@' (an e-mail address?)");
        if (value.Any(c => char.IsControl(c) || c > '~')) hints.Add("control, invisible or non-ASCII characters");
        return hints;
    }

    private sealed record Tally(long Events, long Episodes, Broken Patients, Broken Practitioners);

    private sealed class Broken(int examples)
    {
        private readonly HashSet<string?> _values = [];
        private readonly List<PseudonymExample> _examples = [];
        private long _events;

        public void Add(string? value, PseudonymExample example)
        {
            _events++;
            _values.Add(value);
            if (_examples.Count < examples) _examples.Add(example);
        }

        public PseudonymFindings Findings() => _events == 0 ? PseudonymFindings.None : new(_events, _values.Count, [.. _examples]);
    }

    public static string Text(IdentifierReport report)
    {
        var text = new StringBuilder();
        text.AppendLine($"Identifiers in the event store: {report.Events:N0} events of {report.Clinics:N0} clinics scanned.");
        foreach (var clinic in report.Findings)
        {
            text.Append($"clinic '{clinic.Clinic}': {clinic.Events:N0} events in {clinic.Episodes:N0} episodes");
            text.AppendLine(clinic.ClinicIdProblem is { } rule ? $"; the clinic id breaks the clinic-id rule ({rule})" : "");
            Pseudonyms("patient", clinic.Patients);
            Pseudonyms("practitioner", clinic.Practitioners);
        }
        if (report.Clean)
        {
            text.AppendLine("Nothing to report: every clinic id and pseudonym stored meets today's rules.");
            return text.ToString();
        }
        text.AppendLine($"{report.Clinics - report.Findings.Count:N0} clinics hold nothing to report.");
        text.AppendLine(
            $"Found in {report.Findings.Count:N0} clinics: {report.Findings.Count(f => f.ClinicIdProblem is not null):N0} clinic ids breaking the rule, " +
            $"{report.Findings.Sum(f => f.Patients.DistinctValues):N0} patient pseudonyms in {report.Findings.Sum(f => f.Patients.Events):N0} events, " +
            $"{report.Findings.Sum(f => f.Practitioners.DistinctValues):N0} practitioner pseudonyms in {report.Findings.Sum(f => f.Practitioners.Events):N0} events " +
            "that are not the keyed-hash token (values are never printed: shapes show A/a/9 for letters and digits).");
        return text.ToString();

        void Pseudonyms(string kind, PseudonymFindings found)
        {
            if (found.Events == 0) return;
            text.AppendLine($"  {kind} pseudonyms: {found.DistinctValues:N0} values in {found.Events:N0} events break the pseudonym format, e.g.");
            foreach (var e in found.Examples)
                text.AppendLine($"    episode {e.EpisodeId} event {e.EventId} (sequence {e.Sequence}): shape {e.Shape}, {e.Problem}" +
                                   (e.Hints.Count > 0 ? $"; {string.Join("; ", e.Hints)}" : ""));
        }
    }
}

public class ReportIdentifiersInput : NetCoreInput
{
    [Description("Examples (episode and event ids) listed per clinic and pseudonym kind")]
    public int ExamplesFlag { get; set; } = 5;

    // A file, not stdout: JasperFx writes its own lines to stdout before the command runs.
    [Description("Also write the report as JSON to this file")]
    public string? JsonFlag { get; set; }
}

[Description("Reports stored clinic ids and pseudonyms that break today's identifier rules, per clinic (exit code 1 when any are found)",
    Name = "report-identifiers")]
public class ReportIdentifiersCommand : JasperFxAsyncCommand<ReportIdentifiersInput>
{
    public override async Task<bool> Execute(ReportIdentifiersInput input)
    {
        using var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        var report = await IdentifierScan.RunAsync(connection, Math.Max(0, input.ExamplesFlag), CancellationToken.None);
        Console.Write(IdentifierScan.Text(report));
        if (input.JsonFlag is { } path) await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, ProtocolJson.Options));
        return report.Clean;
    }
}

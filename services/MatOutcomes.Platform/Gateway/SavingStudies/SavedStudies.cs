using System.Text.Json;
using MatOutcomes.Contracts;
using System.Text.RegularExpressions;
using GraphQL;
using GraphQL.Types;
using Marten;
using JasperFx;
using MatOutcomes.Platform.Gateway.ComparingCohorts;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Gateway.SavingStudies;

/// <summary>The outcome a saved study is about; its run reports this outcome's early-versus-chronic contrast.</summary>
public enum StudyOutcome
{
    DurableNprsChange, NprsResponders, ImmediateRelief, NdiChange, OdiChange, NdiResponders, OdiResponders, RelapseAtFollowUp, SessionsToMcid,
}

/// <summary>One version of a named study definition. Versions are never edited: saving a changed
/// definition adds the next version, so a published result can always name what it ran.</summary>
public sealed record SavedStudy
{
    /// <summary>"{name}@{version}".</summary>
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public int Version { get; init; }
    public string Title { get; init; } = "";
    public string? Description { get; init; }
    public StudyQuery Filter { get; init; } = new();
    public StudyOutcome Outcome { get; init; }
    public string SavedBy { get; init; } = "";
    public DateTimeOffset SavedAt { get; init; }

    public static string IdFor(string name, int version) => $"{name}@{version}";

    /// <summary>Whether two versions define the same study (who saved it and when aside).</summary>
    public bool SameDefinition(SavedStudy other) =>
        Title == other.Title && Description == other.Description && Outcome == other.Outcome &&
        JsonSerializer.Serialize(Filter) == JsonSerializer.Serialize(other.Filter);
}

public sealed record SaveStudy(string Name, string Title, string? Description, StudyQuery? Filter, StudyOutcome Outcome, int? ExpectedLatestVersion);

public static partial class SavedStudies
{
    // \z, not $: "$" also matches before a final newline, which would store "name\n" beside "name".
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{2,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    /// <summary>Decides a save: the next version, or the latest unchanged when the definition is
    /// the same (a repeated save changes nothing). Pure; the caller loads and stores.</summary>
    public static SavedStudy Decide(SaveStudy command, SavedStudy? latest, string subject, DateTimeOffset now)
    {
        var errors = new List<FieldError>();
        if (!NamePattern().IsMatch(command.Name)) errors.Add(new("name", "study-name", "must be 3-64 lower-case letters, digits or '-', starting with a letter or digit"));
        if (string.IsNullOrWhiteSpace(command.Title) || command.Title.Length > 200) errors.Add(new("title", "length", "must be 1-200 characters"));
        if (command.Description is { Length: > 4000 }) errors.Add(new("description", "length", "must be at most 4000 characters"));
        var filter = command.Filter ?? new StudyQuery();
        errors.AddRange(filter.Validate().Select(e => e with { Field = "filter." + e.Field }));
        if (errors.Count > 0) throw GatewayError.Invalid("input", errors);

        var latestVersion = latest?.Version ?? 0;
        if (command.ExpectedLatestVersion is { } expected && expected != latestVersion)
            throw new GatewayError("VERSION_CONFLICT",
                $"Study '{command.Name}' is at version {latestVersion}, not {expected}: read it again before saving.", "input.expectedLatestVersion", "concurrency");

        var next = new SavedStudy
        {
            Id = SavedStudy.IdFor(command.Name, latestVersion + 1),
            Name = command.Name,
            Version = latestVersion + 1,
            Title = command.Title.Trim(),
            Description = command.Description,
            Filter = filter,
            Outcome = command.Outcome,
            SavedBy = subject,
            SavedAt = now,
        };
        return latest is not null && latest.SameDefinition(next) ? latest : next;
    }

    private static Task<SavedStudy?> LatestAsync(IQuerySession session, string name, CancellationToken cancellation) =>
        session.Query<SavedStudy>().Where(s => s.Name == name).OrderByDescending(s => s.Version).FirstOrDefaultAsync(cancellation);

    private static async Task<SavedStudy?> FindAsync(IResolveFieldContext context, string name, int? version)
    {
        await using var session = context.Service<IDocumentStore>().QuerySession();
        return version is { } v
            ? await session.LoadAsync<SavedStudy>(SavedStudy.IdFor(name, v), context.CancellationToken)
            : await LatestAsync(session, name, context.CancellationToken);
    }

    public static void AddQueriesTo(ObjectGraphType query)
    {
        query.Field<NonNullGraphType<ListGraphType<NonNullGraphType<SavedStudyGraphType>>>>("studies")
            .Description("Saved study definitions, latest version of each, by name.")
            .ResolveAsync(async context =>
            {
                await using var session = context.Service<IDocumentStore>().QuerySession();
                var all = await session.Query<SavedStudy>().ToListAsync(context.CancellationToken);
                var latest = all.GroupBy(s => s.Name).Select(g => g.MaxBy(s => s.Version)!).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
                context.Gateway().Returned(latest.Count);
                return latest;
            });

        query.Field<SavedStudyGraphType>("study")
            .Description("One saved study definition: the given version, or the latest.")
            .Argument<NonNullGraphType<StringGraphType>>("name", "The study's name.")
            .Argument<IntGraphType>("version", "A version; omit for the latest.")
            .ResolveAsync(async context => await FindAsync(context, context.GetArgument<string>("name"), context.GetArgument<int?>("version")));

        query.Field<NonNullGraphType<ListGraphType<NonNullGraphType<SavedStudyGraphType>>>>("studyVersions")
            .Description("Every version of a saved study, oldest first.")
            .Argument<NonNullGraphType<StringGraphType>>("name", "The study's name.")
            .ResolveAsync(async context =>
            {
                await using var session = context.Service<IDocumentStore>().QuerySession();
                var name = context.GetArgument<string>("name");
                var versions = await session.Query<SavedStudy>().Where(s => s.Name == name).OrderBy(s => s.Version).ToListAsync(context.CancellationToken);
                context.Gateway().Returned(versions.Count);
                return versions;
            });

        query.Field<NonNullGraphType<StudyRunGraphType>>("runStudy")
            .Description("Runs a saved study on the live read models, or as of an earlier event sequence: the result names the " +
                         "study version and the sequence it reflects, so `runStudy(name, version, asOf: sequence)` reproduces it exactly.")
            .Argument<NonNullGraphType<StringGraphType>>("name", "The study's name.")
            .Argument<IntGraphType>("version", "A version; omit for the latest.")
            .Argument<LongGraphType>("asOf", "Replay the event log up to this sequence (an earlier run's `sequence`).")
            .ResolveAsync(async context =>
            {
                var name = context.GetArgument<string>("name");
                var version = context.GetArgument<int?>("version");
                var study = await FindAsync(context, name, version)
                            ?? throw new GatewayError("STUDY_NOT_FOUND", version is null ? $"No study named '{name}'." : $"Study '{name}' has no version {version}.", "name", "exists");
                var snapshot = await context.SnapshotAsync(context.GetArgument<long?>("asOf"));
                var comparison = new ComparisonResult(context.ReadModel().Compare(snapshot, study.Filter), study.Filter.Effective, snapshot.Live, snapshot.Number);
                return new StudyRun(study, comparison, PrimaryOutcome.Of(study.Outcome, comparison.Comparison));
            });
    }

    public static void AddMutationsTo(ObjectGraphType mutation) =>
        mutation.Field<NonNullGraphType<SavedStudyGraphType>>("saveStudy")
            .Description("Saves a study definition as the next version of its name (the first version when new). Saving a definition " +
                         "identical to the latest version returns that version unchanged. Pass expectedLatestVersion to refuse the save " +
                         "if someone else saved in between.")
            .Argument<NonNullGraphType<SaveStudyInputGraphType>>("input", "The definition.")
            .ResolveAsync(async context =>
            {
                var command = context.GetArgument<SaveStudy>("input");
                var store = context.Service<IDocumentStore>();
                await using var session = store.LightweightSession();
                var latest = await LatestAsync(session, command.Name, context.CancellationToken);
                var decided = Decide(command, latest, context.Gateway().Subject, context.Service<TimeProvider>().GetUtcNow());
                if (decided == latest) return latest;
                session.Insert(decided);
                try
                {
                    await session.SaveChangesAsync(context.CancellationToken);
                }
                catch (DocumentAlreadyExistsException)
                {
                    throw new GatewayError("VERSION_CONFLICT", $"Another save of '{command.Name}' took version {decided.Version}; read it again and retry.",
                        "input.name", "concurrency");
                }
                return decided;
            });
}

public sealed record StudyRun(SavedStudy Study, ComparisonResult Comparison, PrimaryOutcome Primary);

/// <summary>A cohort's value of the study's outcome: a mean, a proportion or a median number of sessions.</summary>
public sealed record OutcomeSummary(double? Value, double? Lower, double? Upper, long? N, bool Suppressed);

/// <summary>The saved outcome's early-versus-chronic contrast, picked from the full comparison.</summary>
public sealed record PrimaryOutcome(StudyOutcome Outcome, string Measure, OutcomeSummary Early, OutcomeSummary Chronic,
    DifferenceEstimate? Difference, AdjustedEstimate? AdjustedDifference, NntEstimate? NumberNeededToTreat)
{
    public static PrimaryOutcome Of(StudyOutcome outcome, CohortComparison c)
    {
        var (e, ch) = (c.Early, c.Chronic);
        return outcome switch
        {
            StudyOutcome.DurableNprsChange => Means(e.DurableNprsChange, ch.DurableNprsChange, c.DurableChangeDifference, c.AdjustedDurableChangeDifference),
            StudyOutcome.ImmediateRelief => Means(e.ImmediateRelief, ch.ImmediateRelief, Statistics.Welch(e.ImmediateRelief, ch.ImmediateRelief), null),
            StudyOutcome.NdiChange => Means(e.NdiChange, ch.NdiChange, c.NdiChangeDifference, null),
            StudyOutcome.OdiChange => Means(e.OdiChange, ch.OdiChange, c.OdiChangeDifference, null),
            StudyOutcome.NprsResponders => Proportions(e.NprsResponders, ch.NprsResponders, c.AdjustedResponderDifference, c.NumberNeededToTreat),
            StudyOutcome.NdiResponders => Proportions(e.NdiResponders, ch.NdiResponders, null, null),
            StudyOutcome.OdiResponders => Proportions(e.OdiResponders, ch.OdiResponders, null, null),
            StudyOutcome.RelapseAtFollowUp => Proportions(e.RelapseAtFollowUp, ch.RelapseAtFollowUp, null, null),
            _ => new PrimaryOutcome(outcome, "median", Median(e.SessionsToMcid), Median(ch.SessionsToMcid), null, null, null),
        };

        PrimaryOutcome Means(MeanEstimate a, MeanEstimate b, DifferenceEstimate d, AdjustedEstimate? adjusted) =>
            new(outcome, "mean", new(a.Mean, a.Lower, a.Upper, a.N, a.Suppressed), new(b.Mean, b.Lower, b.Upper, b.N, b.Suppressed), d, adjusted, null);

        PrimaryOutcome Proportions(ProportionEstimate a, ProportionEstimate b, AdjustedEstimate? adjusted, NntEstimate? nnt) =>
            new(outcome, "proportion", new(a.Proportion, a.Lower, a.Upper, a.N, a.Suppressed), new(b.Proportion, b.Lower, b.Upper, b.N, b.Suppressed),
                Statistics.RiskDifference(a, b), adjusted, nnt);

        static OutcomeSummary Median(SurvivalEstimate s) => new(s.MedianSessions, s.MedianLower, s.MedianUpper, s.N, s.Suppressed);
    }
}

public sealed class StudyOutcomeGraphType() : WireEnumGraphType<StudyOutcome>("StudyOutcome",
    "The outcome a saved study is about.", new Dictionary<StudyOutcome, string>
    {
        [StudyOutcome.DurableNprsChange] = "Mean baseline − latest NPRS.",
        [StudyOutcome.NprsResponders] = "Share improving by the NPRS MCID.",
        [StudyOutcome.ImmediateRelief] = "Mean within-session NPRS relief.",
        [StudyOutcome.NdiChange] = "Mean NDI change.",
        [StudyOutcome.OdiChange] = "Mean ODI change.",
        [StudyOutcome.NdiResponders] = "Share improving by the NDI MCID.",
        [StudyOutcome.OdiResponders] = "Share improving by the ODI MCID.",
        [StudyOutcome.RelapseAtFollowUp] = "Share relapsing by follow-up.",
        [StudyOutcome.SessionsToMcid] = "Median sessions to the NPRS MCID (Kaplan–Meier).",
    });

public sealed class SaveStudyInputGraphType : InputObjectGraphType<SaveStudy>
{
    public SaveStudyInputGraphType()
    {
        Name = "SaveStudyInput";
        Description = "A study definition to save as the next version of its name.";
        Field<NonNullGraphType<StringGraphType>>("name").Description("Stable name: 3-64 lower-case letters, digits or '-'.");
        Field<NonNullGraphType<StringGraphType>>("title").Description("Human title (1-200 characters).");
        Field<StringGraphType>("description").Description("Protocol notes (up to 4000 characters).");
        Field<StudyFilterInputGraphType>("filter").Description("Which episodes, the chronic threshold and the MCIDs; omitted = all defaults.");
        Field<NonNullGraphType<StudyOutcomeGraphType>>("outcome").Description("The outcome the study is about.");
        Field<IntGraphType>("expectedLatestVersion").Description("Refuse the save unless the latest version is this one (0 = the name is new).");
    }

    public override object ParseDictionary(IDictionary<string, object?> value) => new SaveStudy(
        (string)value["name"]!,
        (string)value["title"]!,
        value.TryGetValue("description", out var d) ? d as string : null,
        value.TryGetValue("filter", out var f) ? f as StudyQuery : null,
        (StudyOutcome)value["outcome"]!,
        value.TryGetValue("expectedLatestVersion", out var v) ? v as int? : null);
}

public sealed class SavedStudyGraphType : ObjectGraphType<SavedStudy>
{
    public SavedStudyGraphType()
    {
        Name = "SavedStudy";
        Description = "One immutable version of a named study definition.";
        Field(x => x.Name).Description("The study's stable name.");
        Field(x => x.Version).Description("Version number, from 1.");
        Field(x => x.Title).Description("Human title.");
        Field(x => x.Description, nullable: true).Description("Protocol notes.");
        Field<NonNullGraphType<StudyFilterGraphType>>("filter").Description("Filter, chronic threshold and MCIDs.").Resolve(c => c.Source.Filter);
        Field<NonNullGraphType<StudyOutcomeGraphType>>("outcome").Description("The outcome the study is about.").Resolve(c => c.Source.Outcome);
        Field(x => x.SavedBy).Description("Subject of the researcher who saved this version.");
        Field<NonNullGraphType<DateTimeOffsetGraphType>>("savedAt").Description("When this version was saved (UTC).").Resolve(c => c.Source.SavedAt);
    }
}

public sealed class StudyRunGraphType : ObjectGraphType<StudyRun>
{
    public StudyRunGraphType()
    {
        Name = "StudyRun";
        Description = "A saved study computed on the read models at one event sequence.";
        Field<NonNullGraphType<SavedStudyGraphType>>("study").Description("The study version that ran.").Resolve(c => c.Source.Study);
        Field<NonNullGraphType<LongGraphType>>("sequence").Description("The last event sequence the figures include: run again with `asOf` set to it to reproduce them.")
            .Resolve(c => c.Source.Comparison.Comparison.Sequence);
        Field<NonNullGraphType<BooleanGraphType>>("replayed").Description("True when replayed as of `sequence` rather than read live.").Resolve(c => !c.Source.Comparison.Live);
        Field<NonNullGraphType<PrimaryOutcomeGraphType>>("primary").Description("The study outcome's early-versus-chronic contrast.").Resolve(c => c.Source.Primary);
        Field<NonNullGraphType<CohortComparisonGraphType>>("comparison").Description("The full cohort comparison of the study's filter.").Resolve(c => c.Source.Comparison);
    }
}

public sealed class PrimaryOutcomeGraphType : ObjectGraphType<PrimaryOutcome>
{
    public PrimaryOutcomeGraphType()
    {
        Name = "PrimaryOutcome";
        Description = "The saved outcome for early and chronic, and the difference between them (early minus chronic).";
        Field<NonNullGraphType<StudyOutcomeGraphType>>("outcome").Description("The outcome.").Resolve(c => c.Source.Outcome);
        Field(x => x.Measure).Description("`mean`, `proportion` or `median` (sessions).");
        Field<NonNullGraphType<OutcomeSummaryGraphType>>("early").Description("The early cohort's value.").Resolve(c => c.Source.Early);
        Field<NonNullGraphType<OutcomeSummaryGraphType>>("chronic").Description("The chronic cohort's value.").Resolve(c => c.Source.Chronic);
        Field<DifferenceEstimateGraphType>("difference").Description("Early minus chronic with its 95% CI (none for medians).").Resolve(c => c.Source.Difference);
        Field<AdjustedEstimateGraphType>("adjustedDifference").Description("Risk-adjusted difference, where the model covers the outcome.").Resolve(c => c.Source.AdjustedDifference);
        Field<NntEstimateGraphType>("numberNeededToTreat").Description("NNT, for NPRS responders.").Resolve(c => c.Source.NumberNeededToTreat);
    }
}

public sealed class OutcomeSummaryGraphType : ObjectGraphType<OutcomeSummary>
{
    public OutcomeSummaryGraphType()
    {
        Name = "OutcomeSummary";
        Description = "One cohort's value of an outcome with its 95% interval; null numbers when suppressed.";
        Field(x => x.Value, nullable: true).Description("Mean, proportion or median sessions.");
        Field(x => x.Lower, nullable: true).Description("Lower bound of the 95% interval.");
        Field(x => x.Upper, nullable: true).Description("Upper bound of the 95% interval.");
        Field<IntGraphType>("n").Description("Patients behind the value; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field(x => x.Suppressed).Description("True when withheld by small-cell suppression.");
    }
}

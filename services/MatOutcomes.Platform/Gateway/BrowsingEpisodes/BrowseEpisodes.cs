using System.Collections;
using System.Text;
using GraphQL;
using GraphQL.Types;
using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Platform.Gateway.Reading;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Projecting;
using Microsoft.Extensions.Options;

namespace MatOutcomes.Platform.Gateway.BrowsingEpisodes;

/// <summary>Which released rows to list. Filters match released values only: a row whose sex is
/// withheld matches no sex filter, so filtering can never reveal a withheld value.</summary>
public sealed record EpisodeRowFilter
{
    public IReadOnlyList<string>? Clinics { get; init; }
    public IReadOnlyList<ComplaintRegion>? Regions { get; init; }
    public IReadOnlyList<OccupationGroup>? Occupations { get; init; }
    public IReadOnlyList<AgeBand>? AgeBands { get; init; }
    public IReadOnlyList<Sex>? Sexes { get; init; }
    public IReadOnlyList<FormatClass>? Formats { get; init; }
    public IReadOnlyList<StudyCohort>? Cohorts { get; init; }
    public IReadOnlyList<RowStatus>? Statuses { get; init; }
    public string? FromMonth { get; init; }
    public string? ToMonth { get; init; }

    public bool Matches(ReleasedKey row) =>
        In(Clinics, row.Clinic) && In(Regions, row.Region) && In(Occupations, row.Occupation) && In(AgeBands, row.AgeBand) &&
        In(Sexes, row.Sex) && In(Formats, row.Format) && In(Statuses, (RowStatus?)row.Status) &&
        (Cohorts is null || Cohorts.Contains(row.Cohort) || (Cohorts.Contains(StudyCohort.Early) && row.Cohort != StudyCohort.Chronic)) &&
        (FromMonth is null || string.CompareOrdinal(row.Period.From, FromMonth) >= 0) &&
        (ToMonth is null || string.CompareOrdinal(row.Period.To, ToMonth) <= 0);

    private static bool In(IReadOnlyList<string>? allowed, string? value) =>
        allowed is null || (value is not null && allowed.Contains(value));

    private static bool In<T>(IReadOnlyList<T>? allowed, T? value) where T : struct =>
        allowed is null || (value is { } v && allowed.Contains(v));
}

/// <summary>An episode as a researcher may see it: released quasi-identifiers and its outcomes,
/// never a pseudonym, an episode id or a date.</summary>
public sealed record EpisodeRow(ReleasedKey Released, Contribution Contribution);

public sealed record EpisodeRowEdge(string Cursor, EpisodeRow Node);

public sealed record EpisodeRowPage(long Sequence, int K, long TotalCount, IReadOnlyList<EpisodeRowEdge> Edges, bool HasNextPage)
{
    public string? EndCursor => Edges.Count > 0 ? Edges[^1].Cursor : null;
    public string? StartCursor => Edges.Count > 0 ? Edges[0].Cursor : null;
}

public static class BrowseEpisodes
{
    public static void AddTo(ObjectGraphType query) =>
        query.Field<NonNullGraphType<EpisodeRowConnectionGraphType>>("episodes")
            .Description("De-identified episode-level rows, k-anonymous: each row's clinic, region, occupation, age band, sex, format, " +
                         "start period and pain duration are shown only as precisely as at least k episodes share them (coarser, or " +
                         "withheld, otherwise). Cursor-paged forwards in a fixed order that says nothing of clinic, time or identity.")
            .Argument<EpisodeRowFilterInputGraphType>("filter", "Which rows, matched on their released values.")
            .Argument<IntGraphType>("first", arg => { arg.Description = "Page size (1 to the server's maximum, 500 by default)."; arg.DefaultValue = 50; })
            .Argument<StringGraphType>("after", "The `endCursor` of the previous page.")
            .ResolveAsync(async context => (object?)await ResolveAsync(context));

    private static async Task<EpisodeRowPage> ResolveAsync(IResolveFieldContext context)
    {
        var options = context.Service<IOptions<GatewayOptions>>().Value;
        var first = context.GetArgument("first", options.DefaultPageSize);
        if (first < 1 || first > options.MaxPageSize)
            throw new GatewayError("INVALID_ARGUMENT", $"first must be between 1 and {options.MaxPageSize}.", "first", "range");
        var after = context.GetArgument<string?>("after") is { } cursor ? Cursors.Decode(cursor) : null;
        var filter = context.GetArgument<EpisodeRowFilter?>("filter") ?? new EpisodeRowFilter();
        if (Identifiers.ClinicIds("clinics", filter.Clinics).ToList() is { Count: > 0 } invalid)
            throw GatewayError.Invalid("filter", invalid);

        var readModel = context.ReadModel();
        var snapshot = await context.SnapshotAsync(null);
        var release = snapshot.Rows;
        var cells = release.ByCell.Where(c => filter.Matches(c.Value)).Select(c => c.Key).ToList();

        var rows = await readModel.RowsAsync(cells, after, first + 1, context.Service<RowOrder>(), snapshot.Sequence, context.CancellationToken);
        var edges = rows.Take(first)
            .Where(r => release.ByCell.ContainsKey(r.Contribution.Key.Id))
            .Select(r => new EpisodeRowEdge(Cursors.Encode(r.OrderKey), new EpisodeRow(release.ByCell[r.Contribution.Key.Id], r.Contribution)))
            .ToList();
        context.Gateway().Returned(edges.Count);
        return new EpisodeRowPage(snapshot.Sequence, snapshot.K, cells.Sum(c => (long)release.Episodes[c]), edges, rows.Count > first);
    }
}

/// <summary>Opaque cursors over the keyed row order.</summary>
public static class Cursors
{
    private const string Prefix = "row:";

    public static string Encode(string orderKey) => Convert.ToBase64String(Encoding.ASCII.GetBytes(Prefix + orderKey)).TrimEnd('=');

    // Exactly the 48 characters Encode writes: base64 decoding alone skips white space, so
    // "cursor\n" would pass as the same cursor.
    public static string Decode(string cursor)
    {
        if (cursor.Length != 48 || !cursor.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/'))
            throw Invalid();
        try
        {
            var padded = cursor.PadRight(cursor.Length + (4 - cursor.Length % 4) % 4, '=');
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(padded));
            if (text.StartsWith(Prefix, StringComparison.Ordinal) && text.Length == Prefix.Length + 32 && text[Prefix.Length..].All(Uri.IsHexDigit))
                return text[Prefix.Length..];
        }
        catch (FormatException)
        {
        }
        throw Invalid();
    }

    private static GatewayError Invalid() => new("INVALID_CURSOR", "after must be an endCursor from an earlier page.", "after", "cursor");
}

public sealed class EpisodeRowFilterInputGraphType : InputObjectGraphType<EpisodeRowFilter>
{
    public EpisodeRowFilterInputGraphType()
    {
        Name = "EpisodeRowFilter";
        Description = "Which episode rows to list, matched on released values: a withheld value matches no filter on it. An omitted list means all.";
        Field<ListGraphType<NonNullGraphType<StringGraphType>>>("clinics").Description("Clinic ids.");
        Field<ListGraphType<NonNullGraphType<RegionGraphType>>>("regions").Description("Complaint regions.");
        Field<ListGraphType<NonNullGraphType<OccupationGroupGraphType>>>("occupations").Description("Occupation groups.");
        Field<ListGraphType<NonNullGraphType<AgeBandGraphType>>>("ageBands").Description("Age bands.");
        Field<ListGraphType<NonNullGraphType<SexGraphType>>>("sexes").Description("Sexes.");
        Field<ListGraphType<NonNullGraphType<SessionFormatGraphType>>>("formats").Description("Session formats.");
        Field<ListGraphType<NonNullGraphType<StudyCohortGraphType>>>("cohorts").Description("Cohorts at the 12-week threshold (EARLY = ACUTE and SUBACUTE).");
        Field<ListGraphType<NonNullGraphType<EpisodeStatusGraphType>>>("statuses").Description("Active or discharged.");
        Field<StringGraphType>("fromMonth").Description("Rows whose released start period begins in or after this month (yyyy-MM).");
        Field<StringGraphType>("toMonth").Description("Rows whose released start period ends in or before this month (yyyy-MM).");
    }

    public override object ParseDictionary(IDictionary<string, object?> value)
    {
        List<T>? ListOf<T>(string name) => value.TryGetValue(name, out var v) && v is IEnumerable items ? items.Cast<T>().ToList() : null;
        return new EpisodeRowFilter
        {
            Clinics = ListOf<string>("clinics"),
            Regions = ListOf<ComplaintRegion>("regions"),
            Occupations = ListOf<OccupationGroup>("occupations"),
            AgeBands = ListOf<AgeBand>("ageBands"),
            Sexes = ListOf<Sex>("sexes"),
            Formats = ListOf<FormatClass>("formats"),
            Cohorts = ListOf<StudyCohort>("cohorts"),
            Statuses = ListOf<RowStatus>("statuses"),
            FromMonth = value.TryGetValue("fromMonth", out var from) ? from as string : null,
            ToMonth = value.TryGetValue("toMonth", out var to) ? to as string : null,
        };
    }
}

public sealed class EpisodeRowConnectionGraphType : ObjectGraphType<EpisodeRowPage>
{
    public EpisodeRowConnectionGraphType()
    {
        Name = "EpisodeRowConnection";
        Description = "A page of de-identified episode rows (Relay cursor connection, forwards only).";
        Field<NonNullGraphType<LongGraphType>>("sequence").Description("The last event sequence the rows include.").Resolve(c => c.Source.Sequence);
        Field(x => x.K).Description("The k every released row is indistinguishable within.");
        Field<NonNullGraphType<IntGraphType>>("totalCount").Description("Rows matching the filter across all pages (0 or at least k).").Resolve(c => (int)c.Source.TotalCount);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<EpisodeRowEdgeGraphType>>>>("edges").Description("The rows of this page with their cursors.").Resolve(c => c.Source.Edges);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<EpisodeRowGraphType>>>>("nodes").Description("The rows of this page.").Resolve(c => c.Source.Edges.Select(e => e.Node).ToList());
        Field<NonNullGraphType<PageInfoGraphType>>("pageInfo").Description("Where this page sits.").Resolve(c => c.Source);
    }
}

public sealed class PageInfoGraphType : ObjectGraphType<EpisodeRowPage>
{
    public PageInfoGraphType()
    {
        Name = "PageInfo";
        Description = "Relay page information.";
        Field<NonNullGraphType<BooleanGraphType>>("hasNextPage").Description("True when more rows follow `endCursor`.").Resolve(c => c.Source.HasNextPage);
        Field<NonNullGraphType<BooleanGraphType>>("hasPreviousPage").Description("Always false: paging is forwards only.").Resolve(_ => false);
        Field<StringGraphType>("startCursor").Description("Cursor of the first row of the page.").Resolve(c => c.Source.StartCursor);
        Field<StringGraphType>("endCursor").Description("Cursor of the last row of the page: pass it as `after`.").Resolve(c => c.Source.EndCursor);
    }
}

public sealed class EpisodeRowEdgeGraphType : ObjectGraphType<EpisodeRowEdge>
{
    public EpisodeRowEdgeGraphType()
    {
        Name = "EpisodeRowEdge";
        Description = "A row and its cursor.";
        Field(x => x.Cursor).Description("Opaque position of the row.");
        Field<NonNullGraphType<EpisodeRowGraphType>>("node").Description("The row.").Resolve(c => c.Source.Node);
    }
}

public sealed class EpisodeRowGraphType : ObjectGraphType<EpisodeRow>
{
    public EpisodeRowGraphType()
    {
        Name = "EpisodeRow";
        Description = "One episode of care, de-identified: no pseudonym, id or date; quasi-identifiers as precise as k-anonymity allows " +
                      "(null = withheld, see `withheld`); outcomes as the outcome read models hold them.";
        Field<NonNullGraphType<StudyCohortGraphType>>("cohort").Description("ACUTE, SUBACUTE or CHRONIC at the 12-week threshold.").Resolve(c => c.Source.Released.Cohort);
        Field<NonNullGraphType<EpisodeStatusGraphType>>("status").Description("Active or discharged.").Resolve(c => c.Source.Released.Status);
        Field<NonNullGraphType<IntGraphType>>("durationWeeksFrom").Description("Pain duration at start: at least this many weeks.").Resolve(c => c.Source.Released.DurationWeeksFrom);
        Field<IntGraphType>("durationWeeksBelow").Description("Pain duration at start: fewer than this many weeks (null = no upper bound).").Resolve(c => c.Source.Released.DurationWeeksBelow);
        Field<StringGraphType>("clinic").Description("Clinic id, or null when withheld.").Resolve(c => c.Source.Released.Clinic);
        Field<RegionGraphType>("region").Description("Complaint region, or null when withheld.").Resolve(c => c.Source.Released.Region);
        Field<OccupationGroupGraphType>("occupation").Description("Occupation group, or null when withheld.").Resolve(c => c.Source.Released.Occupation);
        Field<AgeBandGraphType>("ageBand").Description("Age band, or null when withheld.").Resolve(c => c.Source.Released.AgeBand);
        Field<SexGraphType>("sex").Description("Sex, or null when withheld.").Resolve(c => c.Source.Released.Sex);
        Field<SessionFormatGraphType>("format").Description("Session format, or null when withheld.").Resolve(c => c.Source.Released.Format);
        Field<StringGraphType>("startQuarter").Description("Quarter of episode start (yyyyQn), or null when withheld.").Resolve(c => c.Source.Released.StartQuarter);
        Field<NonNullGraphType<StringGraphType>>("startYear").Description("Year of episode start.").Resolve(c => c.Source.Released.StartYear);
        Field<NonNullGraphType<IntGraphType>>("baselineNprs").Description("NPRS at intake (0-10).").Resolve(c => c.Source.Contribution.BaselineNprs);
        Field<IntGraphType>("latestNprs").Description("Latest NPRS after intake (pre-session, outcome measure or follow-up).").Resolve(c => c.Source.Contribution.LatestNprs);
        Field<IntGraphType>("durableNprsChange").Description("Baseline − latest NPRS (positive = less pain).")
            .Resolve(c => c.Source.Contribution.LatestNprs is { } latest ? c.Source.Contribution.BaselineNprs - latest : null);
        Field<BooleanGraphType>("nprsResponder").Description("Improved by at least 2 points and 30% of baseline.")
            .Resolve(c => c.Source.Contribution.LatestNprs is { } latest ? Contribution.NprsImproved(c.Source.Contribution.BaselineNprs, latest) : null);
        Field<NonNullGraphType<IntGraphType>>("sessions").Description("Sessions received so far.").Resolve(c => c.Source.Contribution.SessionsReceived);
        Field<IntGraphType>("sessionsToMcid").Description("Sessions received when NPRS first improved by the MCID; null if not (yet).").Resolve(c => c.Source.Contribution.SessionsToMcid);
        Field<FloatGraphType>("immediateRelief").Description("Mean within-session NPRS relief (before − after).").Resolve(c => c.Source.Contribution.MeanRelief);
        Field<IntGraphType>("ndiChange").Description("NDI change, baseline − latest (raw points).").Resolve(c => c.Source.Contribution.NdiChange);
        Field<FloatGraphType>("odiChange").Description("ODI change, baseline − latest (points).").Resolve(c => c.Source.Contribution.OdiChange);
        Field<NonNullGraphType<BooleanGraphType>>("followedUp").Description("Has a follow-up NPRS after discharge.").Resolve(c => c.Source.Contribution.FollowedUp);
        Field<NonNullGraphType<BooleanGraphType>>("relapsed").Description("NPRS rose by 2+ points from discharge to follow-up.").Resolve(c => c.Source.Contribution.Relapsed);
        Field<NonNullGraphType<IntGraphType>>("generalizationLevel").Description("0 = every quasi-identifier at full precision; each level withholds more (see `withheld`).").Resolve(c => c.Source.Released.Level);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<StringGraphType>>>>("withheld").Description("Quasi-identifiers withheld or coarsened for this row to stay k-anonymous.")
            .Resolve(c => EpisodeRelease.WithheldAt(c.Source.Released.Level));
    }
}

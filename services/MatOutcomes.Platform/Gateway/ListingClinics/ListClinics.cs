using GraphQL.Types;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Releasing;

namespace MatOutcomes.Platform.Gateway.ListingClinics;

public sealed record ClinicCount(string Id, long Episodes, bool Suppressed);

/// <summary>The clinics of the network with their episode counts. A count under k is withheld, and
/// one that moved by fewer than k since it was last listed; because the network total is published,
/// the withheld counts must also add up to 0 or at least k (and move in steps of k), else the total
/// minus the shown counts would give them away: the next-smallest counts are withheld with them
/// until they do (complementary suppression). Decided when the release is cut.</summary>
public static class ListClinics
{
    /// <summary>The release's clinics; a count is shown only where the release decided it may be
    /// (see <see cref="Disclosure.Counted"/>).</summary>
    public static IReadOnlyList<ClinicCount> Count(CubeSnapshot snapshot, Disclosure disclosure) =>
        snapshot.ClinicOutcomes
            .Select(c => (Id: snapshot.Clinics[c.Key], Episodes: c.Value.All.Patients))
            .Where(c => c.Episodes > 0)
            .OrderBy(c => c.Id, StringComparer.Ordinal)
            .Select(c => new ClinicCount(c.Id, c.Episodes, !disclosure.Counted.ContainsKey(c.Id)))
            .ToList();

    public static void AddTo(ObjectGraphType query) =>
        query.Field<NonNullGraphType<ListGraphType<NonNullGraphType<ClinicGraphType>>>>("clinics")
            .Description("Every clinic with episodes in the outcome read models, with its episode count (all statuses).")
            .ResolveAsync(async context =>
            {
                var snapshot = await context.SnapshotAsync(null);
                var clinics = Count(snapshot.Cube, snapshot.Disclosure);
                context.Gateway().Returned(clinics.Count);
                return clinics;
            });
}

public sealed class ClinicGraphType : ObjectGraphType<ClinicCount>
{
    public ClinicGraphType()
    {
        Name = "Clinic";
        Description = "A clinic of the network (clinics are identified by id only).";
        Field(x => x.Id).Description("Clinic id, as used in study filters.");
        Field<IntGraphType>("episodes").Description("Episodes of care (all statuses); null when suppressed.")
            .Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.Episodes);
        Field(x => x.Suppressed).Description("True when the count is under k, or withheld so that withheld counts cannot be recovered from the network total.");
    }
}

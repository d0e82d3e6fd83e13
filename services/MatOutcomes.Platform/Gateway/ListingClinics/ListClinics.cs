using GraphQL.Types;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Cube;

namespace MatOutcomes.Platform.Gateway.ListingClinics;

public sealed record ClinicCount(string Id, long Episodes, bool Suppressed);

/// <summary>The clinics of the network with their episode counts. A count under k is withheld;
/// and because the network total is published (any study over all episodes), the withheld counts
/// must also add up to 0 or at least k, else the total minus the shown counts would give them
/// away: the next-smallest counts are withheld with them until they do (complementary suppression).</summary>
public static class ListClinics
{
    public static IReadOnlyList<ClinicCount> Count(CubeSnapshot snapshot, int k)
    {
        var counts = snapshot.ClinicOutcomes
            .Select(c => (Id: snapshot.Clinics[c.Key], Episodes: c.Value.All.Patients))
            .Where(c => c.Episodes > 0)
            .ToList();
        var withheld = counts.Where(c => c.Episodes < k).Select(c => c.Id).ToHashSet();
        var hidden = counts.Where(c => withheld.Contains(c.Id)).Sum(c => c.Episodes);
        foreach (var next in counts.Where(c => !withheld.Contains(c.Id)).OrderBy(c => c.Episodes).ThenBy(c => c.Id, StringComparer.Ordinal))
        {
            if (hidden == 0 || hidden >= k) break;
            withheld.Add(next.Id);
            hidden += next.Episodes;
        }
        return counts.OrderBy(c => c.Id, StringComparer.Ordinal)
            .Select(c => new ClinicCount(c.Id, c.Episodes, withheld.Contains(c.Id)))
            .ToList();
    }

    public static void AddTo(ObjectGraphType query) =>
        query.Field<NonNullGraphType<ListGraphType<NonNullGraphType<ClinicGraphType>>>>("clinics")
            .Description("Every clinic with episodes in the outcome read models, with its episode count (all statuses).")
            .ResolveAsync(async context =>
            {
                var snapshot = await context.SnapshotAsync(null);
                var clinics = Count(snapshot.Cube, snapshot.K);
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

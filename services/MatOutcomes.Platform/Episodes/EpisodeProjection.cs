using JasperFx.Events;
using Marten.Events.Aggregation;

namespace MatOutcomes.Platform.Episodes;

/// <summary>The clinic's per-episode read model, updated in the same transaction as the events.</summary>
public partial class EpisodeProjection : SingleStreamProjection<Episode, Guid>
{
    public override Episode? Evolve(Episode? snapshot, Guid id, IEvent e) =>
        Episode.Fold(snapshot, id, e.Id, (int)e.Version, e.Data);
}

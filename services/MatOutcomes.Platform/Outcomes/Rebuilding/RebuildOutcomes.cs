using System.Data;
using System.Diagnostics;
using JasperFx.CommandLine;
using Marten;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Storage;

namespace MatOutcomes.Platform.Outcomes.Rebuilding;

public sealed record RebuildResult(long Sequence, long Events, long Episodes, int Cells, TimeSpan Elapsed);

/// <summary>Rebuilds the outcome read models from the event log in one pass: every episode folded
/// once in episode order (not event by event through every intermediate state, as the daemon's
/// replay does), then the summaries, cells and clinic tallies written and the projection's
/// progress set, all in one transaction: a rebuild that fails leaves the old read models. Equal to
/// what the projection builds incrementally (the consistency tests compare them). Run it with the
/// platform stopped, like any rebuild: a live node would apply the same events again.</summary>
public static class OutcomesRebuild
{
    public static async Task<RebuildResult> RunAsync(IDocumentStore store, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        await using var session = store.LightweightSession(IsolationLevel.RepeatableRead);
        await session.BeginTransactionAsync(cancellation);
        var sequence = (await session.QueryAsync<long>(
            $"select coalesce(max(seq_id), 0) from {EventStoreExtensions.Schema}.mt_events", cancellation)).Single();
        var events = (await session.QueryAsync<long>(
            $"select count(*) from {EventStoreExtensions.Schema}.mt_events where seq_id <= ?", cancellation, sequence)).Single();

        session.DeleteWhere<EpisodeSummary>(_ => true);
        session.DeleteWhere<OutcomeCell>(_ => true);
        session.DeleteWhere<ClinicTally>(_ => true);

        var cells = new Dictionary<string, (CellKey Key, CellStats Stats)>(StringComparer.Ordinal);
        var tallies = new Dictionary<string, ClinicTally>(StringComparer.Ordinal);
        long episodes = 0;
        await foreach (var replayed in EpisodeReplay.ReadAsync(session, sequence, cancellation))
        {
            episodes++;
            var summary = new EpisodeSummary
            {
                Id = EpisodeSummary.IdFor(replayed.Clinic, replayed.EpisodeId), Clinic = replayed.Clinic, EpisodeId = replayed.EpisodeId,
                Episode = replayed.Episode, LastSequence = replayed.LastSequence,
            };
            if (replayed.Episode is { } episode)
            {
                summary.Contribution = Contribution.Of(replayed.Clinic, episode);
                summary.CellId = summary.Contribution?.Key.Id;
                summary.Activity = ActivityContribution.Of(episode);
            }
            session.Insert(summary);

            if (summary.Contribution is { } contribution)
            {
                var id = contribution.Key.Id;
                var known = cells.TryGetValue(id, out var cell) ? cell.Stats : CellStats.Empty;
                cells[id] = (contribution.Key, known.With(contribution, +1));
            }
            if (summary.Activity is { } activity)
            {
                if (!tallies.TryGetValue(replayed.Clinic, out var tally))
                    tallies[replayed.Clinic] = tally = new ClinicTally { Id = replayed.Clinic, Sequence = sequence };
                tally.Apply(activity, +1);
            }
        }

        foreach (var (key, stats) in cells.Values) session.Insert(OutcomeCell.Of(key, stats, sequence));
        foreach (var tally in tallies.Values) session.Insert(tally);
        session.QueueSqlCommand(
            $"""
             insert into {EventStoreExtensions.Schema}.mt_event_progression (name, last_seq_id, last_updated) values (?, ?, now())
             on conflict (name) do update set last_seq_id = excluded.last_seq_id, last_updated = now()
             """, $"{OutcomesProjection.Name}:All", sequence);
        await session.SaveChangesAsync(cancellation);
        return new RebuildResult(sequence, events, episodes, cells.Count, clock.Elapsed);
    }
}

[Description("Rebuilds the outcome read models from the event log in one pass (run with the platform stopped)", Name = "rebuild-outcomes")]
public class RebuildOutcomesCommand : JasperFxAsyncCommand<NetCoreInput>
{
    public override async Task<bool> Execute(NetCoreInput input)
    {
        using var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var result = await OutcomesRebuild.RunAsync(store, CancellationToken.None);
        Console.WriteLine($"Rebuilt outcomes through event {result.Sequence}: {result.Events} events, {result.Episodes} episodes, " +
                          $"{result.Cells} cells in {result.Elapsed.TotalMilliseconds:F0} ms " +
                          $"({result.Events / Math.Max(result.Elapsed.TotalSeconds, 1e-9):F0} events/s)");
        return true;
    }
}

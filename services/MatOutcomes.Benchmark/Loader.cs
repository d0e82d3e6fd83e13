using System.Diagnostics;
using JasperFx;
using Marten;
using MatOutcomes.Platform.Storage;
using MatOutcomes.Simulator.Network;

namespace MatOutcomes.Benchmark;

/// <summary>Appends simulated episodes straight through Marten, configured exactly as the platform
/// stores events (same schema, tenancy, event types, inline episode read model), bypassing only the
/// sync API. The platform's async projection then builds the read models the normal way. This is
/// also the ceiling the sync API is measured against: a bare Marten append of the same events.</summary>
public sealed class Loader : IDisposable
{
    private const int Writers = 4;
    private const int EventsPerCommit = 500;
    private readonly DocumentStore _store;

    public Loader(string connectionString, bool createSchema)
    {
        _store = DocumentStore.For(options =>
        {
            EventStoreExtensions.ConfigureEvents(options, connectionString);
            // The platform owns the schema of its database; a scratch database gets its own.
            options.AutoCreateSchemaObjects = createSchema ? AutoCreate.CreateOrUpdate : AutoCreate.None;
        });
    }

    /// <summary>Appends every episode of the networks; returns events appended and the time taken.</summary>
    public async Task<(long Events, TimeSpan Elapsed)> AppendAsync(IEnumerable<SimulatedNetwork> networks, CancellationToken cancellation)
    {
        // Whole episodes per commit, one clinic (tenant) per session, as a clinic's push would be.
        var commits = networks.SelectMany(n => n.Clinics).SelectMany(c => Batches(c.Id, c.Episodes)).ToList();
        var clock = Stopwatch.StartNew();
        long events = 0;
        await Parallel.ForEachAsync(commits, new ParallelOptions { MaxDegreeOfParallelism = Writers, CancellationToken = cancellation },
            async (commit, ct) =>
            {
                await using var session = _store.LightweightSession(commit.Clinic);
                foreach (var episode in commit.Episodes)
                {
                    var wrapped = episode.Events.Select(e =>
                    {
                        var built = session.Events.BuildEvent(e.Data);
                        built.Id = e.Envelope.EventId;
                        return (object)built;
                    }).ToArray();
                    session.Events.StartStream(episode.Id, wrapped);
                }
                await session.SaveChangesAsync(ct);
                Interlocked.Add(ref events, commit.Episodes.Sum(e => e.Events.Count));
            });
        return (events, clock.Elapsed);
    }

    private static IEnumerable<(string Clinic, List<SimulatedEpisode> Episodes)> Batches(string clinic, IEnumerable<SimulatedEpisode> episodes)
    {
        var batch = new List<SimulatedEpisode>();
        var count = 0;
        foreach (var episode in episodes)
        {
            if (count + episode.Events.Count > EventsPerCommit && batch.Count > 0)
            {
                yield return (clinic, batch);
                (batch, count) = ([], 0);
            }
            batch.Add(episode);
            count += episode.Events.Count;
        }
        if (batch.Count > 0) yield return (clinic, batch);
    }

    public void Dispose() => _store.Dispose();
}

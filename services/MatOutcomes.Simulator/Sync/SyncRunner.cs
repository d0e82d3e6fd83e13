using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;
using MatOutcomes.Simulator.Network;
using Polly;
using Polly.Retry;

namespace MatOutcomes.Simulator.Sync;

public sealed record SyncRunOptions
{
    /// <summary>Online clinics push at the end of every day that had events.</summary>
    public int OnlineWindowDays { get; init; } = 1;
    /// <summary>Offline clinics push what piled up every two weeks.</summary>
    public int OfflineWindowDays { get; init; } = 14;
    /// <summary>Share of pushes whose acknowledgement is "lost", so the clinic sends the batch again.</summary>
    public double LostAckRate { get; init; } = 0.05;
    public int MaxEventsPerBatch { get; init; } = 500;
    /// <summary>Attempts per push before it counts as refused; unbounded by default, because clinic
    /// software is offline-first and a push is safe to repeat for as long as it takes.</summary>
    public int MaxAttempts { get; init; } = int.MaxValue;
    /// <summary>First retry delay; each later one doubles, with jitter, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Longest wait for one answer: a push that takes longer has an unknown outcome and is sent again.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int Seed { get; init; } = 7;
    /// <summary>Push days already acknowledged by an earlier run of the same network (same seed and
    /// options): they are skipped, so a stopped run resumes where it stopped.</summary>
    public int DaysDone { get; init; }
    /// <summary>Called after each push day is fully acknowledged, with how many are done.</summary>
    public Action<int>? DayDone { get; init; }
}

public sealed record SyncReport(
    int Pushes, int Retries, int Resends, long EventsSent, long EventsAppended, long Duplicates,
    int Conflicts, int Gaps, IReadOnlyList<string> Refusals, TimeSpan Elapsed)
{
    public double EventsPerSecond => EventsAppended / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>Plays a simulated network against the sync API as clinic software would: day by day,
/// online clinics daily and offline ones in late fortnightly batches, sometimes re-sending a batch
/// whose acknowledgement was lost. Any transient failure (no connection, a timeout, 5xx, 429) means
/// "outcome unknown": the same batch is sent again, with exponential backoff and jitter (or after
/// the server's Retry-After), for as long as it takes; the run then carries on where it stopped.</summary>
public sealed class SyncRunner(Func<string, HttpClient> clientFor, SyncRunOptions? options = null)
{
    private readonly SyncRunOptions _options = options ?? new SyncRunOptions();
    private readonly ResiliencePipeline<HttpResponseMessage> _retry = RetryPipeline(options ?? new SyncRunOptions());

    private sealed record Push(string ClinicId, DateOnly Due, PushBatch Batch, int Events);

    public async Task<SyncReport> RunAsync(SimulatedNetwork network, IProgress<long>? appendedSoFar = null,
        CancellationToken cancellation = default)
    {
        var random = new Random(_options.Seed);
        var schedule = network.Clinics.SelectMany(Plan).GroupBy(p => p.Due).OrderBy(g => g.Key).ToList();
        var clients = network.Clinics.ToDictionary(c => c.Id, c => clientFor(c.Id));
        var lostAcks = schedule.SelectMany(g => g).ToDictionary(p => p, _ => random.NextDouble() < _options.LostAckRate);

        long sent = 0, appended = 0, duplicates = 0;
        int pushes = 0, retries = 0, resends = 0, conflicts = 0, gaps = 0;
        var refusals = new List<string>();
        var clock = Stopwatch.StartNew();

        foreach (var (day, index) in schedule.Select((day, i) => (day, i)).Skip(_options.DaysDone))
        {
            // Clinics push independently; one day's pushes run side by side.
            await Parallel.ForEachAsync(day, cancellation, async (push, ct) =>
            {
                var times = lostAcks[push] ? 2 : 1;
                for (var t = 0; t < times; t++)
                {
                    var (ack, attempts, refusal) = await SendAsync(clients[push.ClinicId], push, ct);
                    Interlocked.Increment(ref pushes);
                    Interlocked.Add(ref retries, attempts - 1);
                    Interlocked.Add(ref sent, push.Events);
                    if (t > 0) Interlocked.Increment(ref resends);
                    if (refusal is not null)
                    {
                        lock (refusals) refusals.Add(refusal);
                        continue;
                    }
                    foreach (var episode in ack!.Episodes)
                    {
                        Interlocked.Add(ref appended, episode.Appended);
                        Interlocked.Add(ref duplicates, episode.Duplicates);
                        if (episode.Status == EpisodeSyncStatus.Conflict) Interlocked.Increment(ref conflicts);
                        if (episode.Status == EpisodeSyncStatus.Gap) Interlocked.Increment(ref gaps);
                    }
                    appendedSoFar?.Report(Interlocked.Read(ref appended));
                }
            });
            _options.DayDone?.Invoke(index + 1);
        }

        return new SyncReport(pushes, retries, resends, sent, appended, duplicates, conflicts, gaps, refusals, clock.Elapsed);
    }

    private IEnumerable<Push> Plan(SimulatedClinic clinic)
    {
        var window = clinic.Offline ? _options.OfflineWindowDays : _options.OnlineWindowDays;
        var first = clinic.Episodes.SelectMany(e => e.Events).Select(e => e.Day).DefaultIfEmpty().Min();
        var byWindow = clinic.Episodes
            .SelectMany(e => e.Events.Select(ev => (Episode: e.Id, Event: ev)))
            .GroupBy(x => (x.Event.Day.DayNumber - first.DayNumber) / window)
            .OrderBy(g => g.Key);

        foreach (var group in byWindow)
        {
            var due = first.AddDays((group.Key + 1) * window - 1);
            var uploads = group.GroupBy(x => x.Episode)
                .Select(g => new EpisodeUpload(g.Key, g.Select(x => x.Event.Envelope).OrderBy(e => e.Position).ToList()));
            var batch = new List<EpisodeUpload>();
            var count = 0;
            foreach (var upload in uploads)
            {
                if (count + upload.Events.Count > _options.MaxEventsPerBatch && batch.Count > 0)
                {
                    yield return new Push(clinic.Id, due, new PushBatch(batch), count);
                    (batch, count) = ([], 0);
                }
                batch.Add(upload);
                count += upload.Events.Count;
            }
            if (batch.Count > 0) yield return new Push(clinic.Id, due, new PushBatch(batch), count);
        }
    }

    private async Task<(PushAcknowledgement? Ack, int Attempts, string? Refusal)> SendAsync(HttpClient client, Push push,
        CancellationToken cancellation)
    {
        var attempts = 0;
        using var response = await _retry.ExecuteAsync(async ct =>
        {
            attempts++;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.AttemptTimeout);
            return await client.PostAsJsonAsync($"api/clinics/{push.ClinicId}/events", push.Batch, ProtocolJson.Options, timeout.Token);
        }, cancellation);
        if (response.IsSuccessStatusCode)
            return (await response.Content.ReadFromJsonAsync<PushAcknowledgement>(ProtocolJson.Options, cancellation), attempts, null);
        return (null, attempts, $"{push.ClinicId} {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
    }

    private static ResiliencePipeline<HttpResponseMessage> RetryPipeline(SyncRunOptions options) =>
        new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = options.MaxAttempts == int.MaxValue ? int.MaxValue : Math.Max(1, options.MaxAttempts - 1),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.FirstRetryDelay,
            MaxDelay = options.MaxRetryDelay,
            ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                .Handle<HttpRequestException>()
                .Handle<IOException>()
                // A timed-out attempt: the push may or may not have landed. (Polly does not retry once
                // the run itself is cancelled.)
                .Handle<OperationCanceledException>()
                .HandleResult(r => Transient(r.StatusCode)),
            // The server knows best when it can take the batch again (429 and 503 say so).
            DelayGenerator = args => ValueTask.FromResult(
                args.Outcome.Result?.Headers.RetryAfter is { } retryAfter
                    ? (TimeSpan?)Min(retryAfter.Delta ?? (retryAfter.Date - DateTimeOffset.UtcNow) ?? options.FirstRetryDelay, options.MaxRetryDelay)
                    : null),
        }).Build();

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? (a < TimeSpan.Zero ? TimeSpan.Zero : a) : b;

    private static bool Transient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;
}

using System.Threading.Channels;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Subscriptions;

namespace MatOutcomes.Platform.Dashboard.Publishing;

/// <summary>A clinic whose events moved on: up to which event, and when the earliest of them was
/// committed (for the push-latency meter).</summary>
public sealed record ClinicChange(string Clinic, long Sequence, DateTimeOffset FirstCommitted);

/// <summary>The clinics changed since the publisher last looked, merged per clinic. Many pages
/// of events between two looks leave one entry per clinic: the coalescing happens here.</summary>
public sealed class DashboardChangeFeed
{
    private readonly Lock _lock = new();
    private Dictionary<string, ClinicChange> _pending = [];
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Note(ClinicChange change)
    {
        lock (_lock)
        {
            _pending[change.Clinic] = _pending.TryGetValue(change.Clinic, out var known)
                ? new ClinicChange(change.Clinic, Math.Max(known.Sequence, change.Sequence),
                    known.FirstCommitted < change.FirstCommitted ? known.FirstCommitted : change.FirstCommitted)
                : change;
        }
        _signal.Writer.TryWrite(true);
    }

    public async Task WaitAsync(CancellationToken cancellation) => await _signal.Reader.ReadAsync(cancellation);

    public IReadOnlyList<ClinicChange> Drain()
    {
        lock (_lock)
        {
            var drained = _pending.Values.ToList();
            _pending = [];
            return drained;
        }
    }
}

/// <summary>A Marten subscription over every event: notes which clinics changed. Wolverine runs it
/// on exactly one node (managed distribution), so each change is announced once for the whole
/// cluster; the SignalR backplane carries the announcement to every node's connections.</summary>
public sealed class DashboardChanges : SubscriptionBase
{
    public const string SubscriptionName = "dashboard-changes";
    private readonly DashboardChangeFeed _feed;

    public DashboardChanges(DashboardChangeFeed feed)
    {
        _feed = feed;
        Name = SubscriptionName;
    }

    public override Task<IChangeListener> ProcessEventsAsync(EventRange page, ISubscriptionController controller,
        IDocumentOperations operations, CancellationToken cancellationToken)
    {
        foreach (var clinic in page.Events.GroupBy(e => e.TenantId))
            _feed.Note(new ClinicChange(clinic.Key, clinic.Max(e => e.Sequence), clinic.Min(e => e.Timestamp)));
        return Task.FromResult<IChangeListener>(NullChangeListener.Instance);
    }
}

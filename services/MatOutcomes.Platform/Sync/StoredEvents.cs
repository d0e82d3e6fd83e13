using System.Text.Json;
using JasperFx.Events;
using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Sync;

namespace MatOutcomes.Platform.Sync;

public static class StoredEvents
{
    /// <summary>A stored event in the protocol's own shape and JSON dialect.</summary>
    public static StoredEvent ToContract(IEvent e) => new(
        e.Sequence, e.StreamId, (int)e.Version, e.Id, e.EventTypeName,
        JsonSerializer.SerializeToElement(e.Data, e.EventType, ProtocolJson.Options),
        e.Timestamp);
}

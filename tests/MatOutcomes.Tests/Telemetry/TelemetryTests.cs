using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MatOutcomes.Platform.ServiceDefaults;
using MatOutcomes.Tests.Support;

namespace MatOutcomes.Tests.Telemetry;

/// <summary>The platform's own traces and meters are emitted where OpenTelemetry picks them up.</summary>
public class TelemetryTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    [Fact]
    public async Task A_push_is_traced_and_counted_and_projection_lag_is_observable()
    {
        var clinic = PlatformFixture.NewClinic();
        var activities = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is PlatformTelemetry.Name or "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Add,
        };
        ActivitySource.AddActivityListener(listener);
        var measured = new ConcurrentDictionary<string, long>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == PlatformTelemetry.Name) l.EnableMeasurementEvents(instrument);
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measured.AddOrUpdate(instrument.Name, value, (_, total) => total + value));
        meters.Start();

        using var client = platform.Client(platform.ClinicToken(clinic));
        var episode = new EpisodeScript().Add(Sample.Opened(), Sample.Session(), Sample.Session(2));
        (await client.PostAsync($"/api/clinics/{clinic}/events", PlatformFixture.Json(episode.Batch()))).EnsureSuccessStatusCode();
        meters.RecordObservableInstruments();

        var push = Assert.Single(activities, a => a.OperationName == "sync.push" && (string?)a.GetTagItem("matoutcomes.clinic") == clinic);
        Assert.Equal(3, push.GetTagItem("matoutcomes.events_appended"));
        Assert.Contains(activities, a => a.Source.Name == "Npgsql" && a.TraceId == push.TraceId);
        Assert.True(measured.GetValueOrDefault("matoutcomes.sync.events_ingested") >= 3);
        Assert.True(measured.ContainsKey("matoutcomes.projection.lag"), string.Join(", ", measured.Keys));
    }
}

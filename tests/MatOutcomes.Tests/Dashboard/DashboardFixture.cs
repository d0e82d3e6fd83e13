using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Dashboard.Computing;
using MatOutcomes.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MatOutcomes.Tests.Dashboard;

/// <summary>One platform on Kestrel per test class, on its own database.</summary>
public class DashboardFixture : IAsyncLifetime
{
    public KestrelPlatform Platform { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";

    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public virtual async Task InitializeAsync()
    {
        ConnectionString = await TestCluster.NewDatabaseAsync(GetType().Name);
        Platform = await KestrelPlatform.StartAsync(ConnectionString, Settings);
    }

    public virtual async Task DisposeAsync() => await Platform.DisposeAsync();

    /// <summary>"Today" as the dashboard counts it.</summary>
    public DateOnly Today => Platform.Services.GetRequiredService<DashboardReader>().Today();
}

/// <summary>Episodes dated relative to the dashboard's today.</summary>
public static class Episodes
{
    public static SessionRecorded Session(DateOnly on, int before = 6, int after = 4) =>
        new(on, Sample.PractitionerPseudonym, SessionFormat.StandaloneMat, [Technique.MuscleLengthening, Technique.FascialRelease],
            [ComplaintRegion.LowBack], 45, before, after);

    /// <summary>An episode opened <paramref name="daysAgo"/> days before today with sessions on the given days ago.</summary>
    public static EpisodeScript Opened(DateOnly today, int daysAgo = 0, int weeks = 20, int baseline = 7, string patient = "0001",
        params (int DaysAgo, int Before, int After)[] sessions)
    {
        var script = new EpisodeScript().Add(Sample.Opened(baseline, weeks, patient: patient, on: today.AddDays(-daysAgo)));
        foreach (var s in sessions) script.Add(Session(today.AddDays(-s.DaysAgo), s.Before, s.After));
        return script;
    }
}

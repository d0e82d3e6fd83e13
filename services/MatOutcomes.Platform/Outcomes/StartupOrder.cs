namespace MatOutcomes.Platform.Outcomes;

/// <summary>The order a starting node loads its two cubes in: the latest release first (what
/// researchers read), then the live cells (the dashboards and the next cut). Loaded at once on two
/// cores they took turns with each other and with start-up itself, and the first research answer
/// waited for both (at 1M events, 1.0 s for the release and 1.7 s for the live cells). The live cube
/// waits only so long: a release that cannot load yet must not keep the dashboards dark. The live
/// cube then shares the release's cells that are unchanged since the cut (most of them: a release
/// holds every closed quarter), instead of holding a second copy of each (some 30 MB at 1M events).</summary>
public sealed class StartupOrder
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Cube.CubeSnapshot? _loaded;

    /// <summary>The first attempt to load the latest release is over, loaded (<paramref name="release"/>) or not.</summary>
    public void ReleaseSettled(Cube.CubeSnapshot? release = null)
    {
        if (_release.Task.IsCompleted) return;
        _loaded = release;
        _release.TrySetResult();
    }

    /// <summary>The release loaded at start, handed over once (later releases are cut from the live
    /// cube's own cells, so share them already); null when none was.</summary>
    public Cube.CubeSnapshot? TakeRelease() => Interlocked.Exchange(ref _loaded, null);

    public async Task ReleaseFirstAsync(TimeSpan atMost, CancellationToken cancellation)
    {
        try
        {
            await _release.Task.WaitAsync(atMost, cancellation);
        }
        catch (TimeoutException)
        {
        }
    }
}

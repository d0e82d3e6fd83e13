namespace MatOutcomes.Platform.Outcomes;

/// <summary>The order a starting node loads its two cubes in: the latest release first (what
/// researchers read), then the live cells (the dashboards and the next cut). Loaded at once on two
/// cores they took turns with each other and with start-up itself, and the first research answer
/// waited for both (at 1M events, 1.0 s for the release and 1.7 s for the live cells). The live cube
/// waits only so long: a release that cannot load yet must not keep the dashboards dark.</summary>
public sealed class StartupOrder
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The first attempt to load the latest release is over, loaded or not.</summary>
    public void ReleaseSettled() => _release.TrySetResult();

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

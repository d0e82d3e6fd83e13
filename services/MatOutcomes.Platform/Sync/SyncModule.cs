using MatOutcomes.Platform.Episodes.GettingEpisode;
using MatOutcomes.Platform.Sync.Pulling;
using MatOutcomes.Platform.Sync.Pushing;

namespace MatOutcomes.Platform.Sync;

public static class SyncModule
{
    public static WebApplication MapSync(this WebApplication app)
    {
        app.MapPushEvents();
        app.MapPullEvents();
        app.MapGetEpisode();
        return app;
    }
}

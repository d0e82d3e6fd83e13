using JasperFx.Events.Projections;
using Marten;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Outcomes;

public static class OutcomesModule
{
    public static WebApplicationBuilder AddOutcomes(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<PrivacyOptions>(builder.Configuration.GetSection("Privacy"));
        builder.Services.Configure<CubeOptions>(builder.Configuration.GetSection("Cube"));
        builder.Services.AddSingleton<ClinicDirectory>();
        builder.Services.AddSingleton<StartupOrder>();
        builder.Services.AddSingleton<OutcomeCube>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OutcomeCube>());
        builder.Services.AddSingleton<CubeReplay>();
        builder.Services.Configure<ReleaseOptions>(builder.Configuration.GetSection("Privacy:Release"));
        builder.Services.AddSingleton<Releases>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Releases>());
        builder.Services.AddSingleton<StudyReader>();
        builder.Services.AddSingleton<ProjectionLag>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionLag>());

        builder.Services.ConfigureMarten((services, options) =>
        {
            options.Projections.Add(new OutcomesProjection(), ProjectionLifecycle.Async, OutcomesProjection.Name, async =>
            {
                async.DeleteViewTypeOnTeardown<OutcomeCell>();
                async.DeleteViewTypeOnTeardown<EpisodeSummary>();
                async.DeleteViewTypeOnTeardown<ClinicTally>();
            });
            ConfigureReadModels(options);
            // The node running the projection refreshes its cube right after each commit.
            options.Projections.AsyncListeners.Add(new CubeNudge(services.GetRequiredService<OutcomeCube>));
            // New events are noticed within 100 ms even when the network is quiet (a cheap query).
            options.Projections.SlowPollingTime = TimeSpan.FromMilliseconds(100);
            options.Projections.FastPollingTime = TimeSpan.FromMilliseconds(50);
        });
        return builder;
    }

    /// <summary>The outcome read models' tables: the platform's store and the standalone rebuild's
    /// (<c>MatOutcomes.Rebuild</c>) declare them here, so both see the same schema.</summary>
    public static void ConfigureReadModels(StoreOptions options)
    {
        // Cross-clinic read models: one set for the whole network, so single-tenanted.
        options.Schema.For<OutcomeCell>().SingleTenanted().Duplicate(c => c.Sequence);
        options.Schema.For<ClinicTally>().SingleTenanted().Duplicate(t => t.Sequence);
        options.Schema.For<EpisodeSummary>().SingleTenanted().Duplicate(s => s.CellId);
        options.Schema.For<OutcomeRelease>().SingleTenanted().Identity(r => r.Id).Duplicate(r => r.Sequence);
        options.Schema.For<ReleasedCells>().SingleTenanted().Duplicate(c => c.Release);
    }

    public static WebApplication MapOutcomes(this WebApplication app)
    {
        app.MapCompareCohorts();
        ReleaseEndpoints.Map(app);
        ProjectionLag.MapProjectionStatus(app);
        return app;
    }
}

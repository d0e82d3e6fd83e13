using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Outcomes;

public static class OutcomesModule
{
    public static WebApplicationBuilder AddOutcomes(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<PrivacyOptions>(builder.Configuration.GetSection("Privacy"));
        builder.Services.AddSingleton<StudyReader>();
        builder.Services.AddSingleton<ProjectionLag>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionLag>());
        return builder;
    }

    public static WebApplication MapOutcomes(this WebApplication app)
    {
        app.MapCompareCohorts();
        ProjectionLag.MapProjectionStatus(app);
        return app;
    }
}

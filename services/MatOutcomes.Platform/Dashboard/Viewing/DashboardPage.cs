namespace MatOutcomes.Platform.Dashboard.Viewing;

/// <summary>GET /dashboard: the managers' page. Static (its data comes over the hub with the
/// manager's token), served with a strict content security policy: scripts, styles and the
/// SignalR connection only from this origin, nothing from a CDN.</summary>
public static class DashboardPage
{
    public const string Route = "/dashboard";
    private const string File = "dashboard/index.html";

    private const string Policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static void MapDashboardPage(this IEndpointRouteBuilder app) =>
        app.MapGet(Route, (HttpContext http, IWebHostEnvironment environment) =>
        {
            var page = environment.WebRootFileProvider.GetFileInfo(File);
            if (!page.Exists)
                return Problems.Result(StatusCodes.Status404NotFound, "Dashboard page missing",
                    "wwwroot/dashboard/index.html is not in the build output.", "dashboard-missing");
            http.Response.Headers.ContentSecurityPolicy = Policy;
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers["Referrer-Policy"] = "no-referrer";
            return Results.Stream(page.CreateReadStream(), "text/html; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();
}

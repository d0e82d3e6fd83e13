using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace MatOutcomes.Platform.Gateway.Ide;

/// <summary>GraphiQL at /graphql/ide, served from wwwroot/graphiql/ (copied from npm at build
/// time, so the page works with no internet). The page is public: it holds no data, and asks
/// for the researcher's token, which it sends as a bearer header to /graphql.</summary>
public static class GraphiQLPage
{
    public const string Path = GatewayModule.Path + "/ide";

    // Only our own origin: the IDE must never fetch a script or send a query anywhere else.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public static void Map(WebApplication app)
    {
        var folder = System.IO.Path.Combine(app.Environment.ContentRootPath, "wwwroot", "graphiql");
        var types = new FileExtensionContentTypeProvider();

        app.MapGet(Path + "/{*file}", (HttpContext http, string? file) =>
        {
            // The page's relative asset URLs need the trailing slash (routing itself ignores it).
            if (string.IsNullOrEmpty(file) && http.Request.Path.Value?.EndsWith('/') != true)
                return Results.Redirect(Path + "/" + http.Request.QueryString);
            var files = Directory.Exists(folder) ? new PhysicalFileProvider(folder) : null;
            var info = files?.GetFileInfo(string.IsNullOrEmpty(file) ? "index.html" : file);
            if (files is null || info is not { Exists: true, IsDirectory: false })
                return file is null or "" or "index.html"
                    ? Problems.Result(StatusCodes.Status503ServiceUnavailable, "IDE not built",
                        "The GraphiQL assets are missing from wwwroot/graphiql: build the Platform project (it runs npm ci) and restart.", "ide-missing")
                    : Results.NotFound();
            http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.CacheControl = "no-cache";
            return Results.File(info.CreateReadStream(), types.TryGetContentType(info.Name, out var type) ? type : "application/octet-stream",
                lastModified: info.LastModified);
        }).ExcludeFromDescription();
    }
}

using Microsoft.AspNetCore.StaticFiles;

namespace MatOutcomes.Platform.Gateway.Ide;

/// <summary>GraphiQL at /graphql/ide, served from the web root's graphiql/ (copied from npm at build
/// time, so the page works with no internet). The page is public: it holds no data, and asks
/// for the researcher's token, which it sends as a bearer header to /graphql.</summary>
public static class GraphiQLPage
{
    public const string Path = GatewayModule.Path + "/ide";
    private const string Folder = "graphiql";

    // Only our own origin: the IDE must never fetch a script or send a query anywhere else.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public static void Map(WebApplication app)
    {
        var types = new FileExtensionContentTypeProvider();

        // Through the web root, never a path under the content root: a platform run from its build
        // output finds the files through the static web assets manifest (Development), a published
        // one in its own wwwroot (any environment).
        app.MapGet(Path + "/{*file}", (HttpContext http, IWebHostEnvironment environment, string? file) =>
        {
            // The page's relative asset URLs need the trailing slash (routing itself ignores it).
            if (string.IsNullOrEmpty(file) && http.Request.Path.Value?.EndsWith('/') != true)
                return Results.Redirect(Path + "/" + http.Request.QueryString);
            var name = string.IsNullOrEmpty(file) ? "index.html" : file;
            // The assets sit flat in one folder: nothing else of the web root is reachable from here.
            if (name.IndexOfAny(['/', '\\']) >= 0 || name.Contains("..", StringComparison.Ordinal)) return Results.NotFound();
            var info = environment.WebRootFileProvider.GetFileInfo($"{Folder}/{name}");
            if (info is not { Exists: true, IsDirectory: false })
                return name == "index.html"
                    ? Problems.Result(StatusCodes.Status503ServiceUnavailable, "IDE not built",
                        $"The GraphiQL assets are missing from the web root ({Folder}/): build the Platform project with npm installed (it runs npm ci), or publish it, and restart.",
                        "ide-missing")
                    : Results.NotFound();
            http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.CacheControl = "no-cache";
            return Results.File(info.CreateReadStream(), types.TryGetContentType(info.Name, out var type) ? type : "application/octet-stream",
                lastModified: info.LastModified);
        }).ExcludeFromDescription();
    }
}

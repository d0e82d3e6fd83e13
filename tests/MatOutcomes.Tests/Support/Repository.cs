namespace MatOutcomes.Tests.Support;

/// <summary>The repository the tests were built from: its scripts, projects and build outputs.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    public static string PathTo(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MatOutcomes.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException($"No MatOutcomes.sln above {AppContext.BaseDirectory}");
    }
}

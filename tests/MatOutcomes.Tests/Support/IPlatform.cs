namespace MatOutcomes.Tests.Support;

/// <summary>A running platform a test can talk to: in-process (Alba) or on a real socket (Kestrel).</summary>
public interface IPlatform
{
    string Token(string role, params string[] clinics);
    HttpClient Client(string token);
    CapturedLog Log { get; }
}

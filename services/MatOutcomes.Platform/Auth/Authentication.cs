using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using System.Text;
using System.Text.RegularExpressions;
using MatOutcomes.Contracts.Sync;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MatOutcomes.Platform.Auth;

public static class Roles
{
    public const string Clinic = "clinic";
    public const string Researcher = "researcher";
    public const string Manager = "manager";
    public const string Admin = "admin";
    public static readonly string[] All = [Clinic, Researcher, Manager, Admin];
}

public static class PlatformClaims
{
    public const string Role = "role";
    /// <summary>One claim per clinic the token may touch (clinic software: its own clinic;
    /// managers: the clinics they are assigned).</summary>
    public const string Clinic = "clinic";
}

/// <summary>The clinic-id rule of the sync protocol (<see cref="Identifiers"/>), where the platform checks it.</summary>
public static class ClinicIds
{
    public static Regex Pattern() => Identifiers.ClinicIdPattern();

    public static bool IsValid([NotNullWhen(true)] string? clinicId) => Identifiers.IsClinicId(clinicId);
}

public sealed class TokenIssuer(IConfiguration configuration, TimeProvider clock)
{
    public const string Issuer = "matoutcomes";
    public const string Audience = "matoutcomes";

    public SymmetricSecurityKey Key { get; } = KeyFrom(configuration);

    public string Mint(string subject, string role, IEnumerable<string> clinics, TimeSpan lifetime)
    {
        var claims = new Dictionary<string, object> { [PlatformClaims.Role] = role };
        var clinicList = clinics.ToArray();
        if (clinicList.FirstOrDefault(c => !ClinicIds.IsValid(c)) is { } bad)
            throw new ArgumentException($"not a clinic id: '{Identifiers.Escaped(bad)}' ({Identifiers.ClinicIdRule})", nameof(clinics));
        if (clinicList.Length > 0) claims[PlatformClaims.Clinic] = clinicList;
        var now = clock.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
        });
    }

    private static SymmetricSecurityKey KeyFrom(IConfiguration configuration)
    {
        var secret = configuration["Auth:SigningKey"];
        if (string.IsNullOrEmpty(secret) || Encoding.UTF8.GetByteCount(secret) < 32)
            throw new InvalidOperationException(
                "Auth:SigningKey must be set to a secret of at least 32 bytes (appsettings.Development.json has a development key).");
        return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret));
    }
}

public static class AuthenticationExtensions
{
    public const string ClinicWriter = "clinic-writer";
    public const string Researcher = "researcher";

    public static WebApplicationBuilder AddPlatformAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenIssuer>((options, issuer) =>
            {
                options.MapInboundClaims = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = TokenIssuer.Issuer,
                    ValidAudience = TokenIssuer.Audience,
                    IssuerSigningKey = issuer.Key,
                    RoleClaimType = PlatformClaims.Role,
                    NameClaimType = "sub",
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
                options.Events = new JwtBearerEvents
                {
                    // A problem-details body instead of an empty 401.
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        await Problems.Write(context.HttpContext, StatusCodes.Status401Unauthorized, "Not authenticated",
                            "Send a bearer token (mint a development one with the `token` command).", "unauthenticated");
                    },
                };
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ClinicWriter, p => p.RequireRole(Roles.Clinic, Roles.Admin))
            .AddPolicy(Researcher, p => p.RequireRole(Roles.Researcher, Roles.Admin));
        return builder;
    }

    /// <summary>Lets the request through only if its token names the route's clinic (admins may
    /// touch any). Runs before the handler, so a refused request reads and writes nothing.</summary>
    public static RouteHandlerBuilder RequireClinicAccess(this RouteHandlerBuilder endpoint) =>
        endpoint.RequireAuthorization(ClinicWriter).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var clinicId = http.GetRouteValue("clinicId") as string;
            if (Identifiers.ClinicId("clinicId", clinicId) is { } error)
                return Problems.Validation("The clinic id is not valid; nothing was read or stored", [error]);
            if (!http.User.CanTouch(clinicId))
                return Problems.Result(StatusCodes.Status403Forbidden, "Not your clinic",
                    $"This token may not touch clinic '{clinicId}'.", "forbidden-clinic");
            return await next(context);
        });

    /// <summary>Only a valid clinic id can be touched, and a claim grants exactly its own id
    /// (ordinal equality): neither side can be a near-duplicate such as <c>clinic-01\n</c>.</summary>
    public static bool CanTouch(this ClaimsPrincipal user, string? clinicId) =>
        ClinicIds.IsValid(clinicId) &&
        (user.IsInRole(Roles.Admin) || user.Clinics().Contains(clinicId, StringComparer.Ordinal));

    /// <summary>The clinics the token names, those that are valid clinic ids.</summary>
    public static IEnumerable<string> Clinics(this ClaimsPrincipal user) =>
        user.FindAll(PlatformClaims.Clinic).Select(c => c.Value).Where(ClinicIds.IsValid);
}

using System.Security.Claims;
using System.Text;
using System.Text.RegularExpressions;
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

public static partial class ClinicIds
{
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{2,39}$")]
    public static partial Regex Pattern();
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
            var clinicId = http.GetRouteValue("clinicId") as string ?? "";
            if (!ClinicIds.Pattern().IsMatch(clinicId))
                return Problems.Validation("The clinic id is not valid",
                    [new("clinicId", "clinic-id", "must be 3-40 lower-case letters, digits or '-'")]);
            if (!http.User.CanTouch(clinicId))
                return Problems.Result(StatusCodes.Status403Forbidden, "Not your clinic",
                    $"This token may not touch clinic '{clinicId}'.", "forbidden-clinic");
            return await next(context);
        });

    public static bool CanTouch(this ClaimsPrincipal user, string clinicId) =>
        user.IsInRole(Roles.Admin) || user.FindAll(PlatformClaims.Clinic).Any(c => c.Value == clinicId);
}

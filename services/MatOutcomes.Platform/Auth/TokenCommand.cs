using JasperFx.CommandLine;
using MatOutcomes.Contracts.Sync;

namespace MatOutcomes.Platform.Auth;

public class TokenInput : NetCoreInput
{
    [Description("Role: clinic, researcher, manager or admin")]
    public string RoleFlag { get; set; } = Roles.Clinic;

    [Description("The clinics the token may touch: --clinic clinic-01 clinic-02 ...")]
    [FlagAlias("clinic", 'k')]
    public List<string> ClinicFlag { get; set; } = [];

    [Description("Who the token is for (a device or person label)")]
    public string SubjectFlag { get; set; } = "dev";

    [Description("Lifetime in hours")]
    public int HoursFlag { get; set; } = 12;
}

[Description("Mints a development JWT signed with Auth:SigningKey", Name = "token")]
public class TokenCommand : JasperFxCommand<TokenInput>
{
    public override bool Execute(TokenInput input)
    {
        if (!Roles.All.Contains(input.RoleFlag))
        {
            Console.Error.WriteLine($"--role must be one of: {string.Join(", ", Roles.All)}");
            return false;
        }
        var bad = input.ClinicFlag.Where(c => !ClinicIds.IsValid(c)).ToList();
        if (bad.Count > 0)
        {
            Console.Error.WriteLine($"not a clinic id: {string.Join(", ", bad.Select(b => $"'{Identifiers.Escaped(b)}'"))} ({Identifiers.ClinicIdRule})");
            return false;
        }

        using var host = input.BuildHost();
        var issuer = host.Services.GetRequiredService<TokenIssuer>();
        Console.WriteLine(issuer.Mint(input.SubjectFlag, input.RoleFlag, input.ClinicFlag, TimeSpan.FromHours(input.HoursFlag)));
        return true;
    }
}

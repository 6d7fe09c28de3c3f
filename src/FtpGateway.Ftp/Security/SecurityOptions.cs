using Microsoft.Extensions.Options;

namespace FtpGateway.Ftp.Security;

/// <summary>Configuration section <c>Security</c>: who may connect, bans, and what a login may cost.</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "Security";

    /// <summary>When not empty, only these networks (CIDR) may connect.</summary>
    public List<string> AllowedAddresses { get; set; } = [];

    /// <summary>Networks (CIDR) that may never connect; wins over <see cref="AllowedAddresses"/>.</summary>
    public List<string> DeniedAddresses { get; set; } = [];

    /// <summary>Password verifications (key derivations) that run at once; 0 means the number of cores.</summary>
    public int MaxConcurrentPasswordChecks { get; set; }

    public BanOptions Bans { get; set; } = new();

    internal int PasswordCheckers => MaxConcurrentPasswordChecks > 0 ? MaxConcurrentPasswordChecks : Environment.ProcessorCount;
}

/// <summary>Configuration section <c>Security:Bans</c>: failed logins counted per client address across sessions.</summary>
public sealed class BanOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Failed logins within <see cref="Window"/> that ban the address.</summary>
    public int MaxFailures { get; set; } = 10;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a first ban lasts. A repeat offender's ban doubles each time, up to <see cref="MaxDuration"/>.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The longest ban; also how long an address's past bans are remembered after its last one ended.</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Networks (CIDR) never banned: a fleet behind one NAT address, monitoring probes.</summary>
    public List<string> Exempt { get; set; } = [];

    /// <summary>Addresses (IPv6: /64 networks) whose failures are remembered at once; beyond it the oldest unbanned one is forgotten.</summary>
    public int MaxTrackedAddresses { get; set; } = 100_000;
}

/// <summary>Start-up validation of <see cref="SecurityOptions"/>, naming the key.</summary>
public sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        AddressList.Parse(options.AllowedAddresses, "Security:AllowedAddresses", errors);
        AddressList.Parse(options.DeniedAddresses, "Security:DeniedAddresses", errors);
        AddressList.Parse(options.Bans.Exempt, "Security:Bans:Exempt", errors);
        if (options.MaxConcurrentPasswordChecks < 0)
        {
            errors.Add("Security:MaxConcurrentPasswordChecks must not be negative (0: the number of cores)");
        }

        var bans = options.Bans;
        if (bans.MaxFailures < 1)
        {
            errors.Add("Security:Bans:MaxFailures must be at least 1");
        }

        if (bans.Window <= TimeSpan.Zero || bans.Duration <= TimeSpan.Zero)
        {
            errors.Add("Security:Bans:Window and Security:Bans:Duration must be positive");
        }

        if (bans.MaxDuration < bans.Duration)
        {
            errors.Add("Security:Bans:MaxDuration must not be shorter than Security:Bans:Duration");
        }

        if (bans.MaxTrackedAddresses < 1)
        {
            errors.Add("Security:Bans:MaxTrackedAddresses must be at least 1");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

namespace FtpGateway.Ftp.Security;

/// <summary>Configuration section <c>Security</c>: who may connect, bans, and what a login may cost.</summary>
public sealed class SecurityOptions : IValidatedOptions
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

    private (AddressList Allowed, AddressList Denied)? _addresses;

    /// <summary><see cref="AllowedAddresses"/> and <see cref="DeniedAddresses"/>, parsed once by <see cref="Validate"/>.</summary>
    internal (AddressList Allowed, AddressList Denied) Addresses
    {
        get
        {
            if (_addresses is null)
            {
                this.ThrowIfInvalid();
            }

            return _addresses!.Value;
        }
    }

    /// <summary>Every invalid key of the section (and of <c>Security:Bans</c>), named.</summary>
    public IEnumerable<string> Validate()
    {
        var errors = new List<string>();
        var allowed = AddressList.Parse(AllowedAddresses, "Security:AllowedAddresses", errors);
        var denied = AddressList.Parse(DeniedAddresses, "Security:DeniedAddresses", errors);
        if (MaxConcurrentPasswordChecks < 0)
        {
            errors.Add("Security:MaxConcurrentPasswordChecks must not be negative (0: the number of cores)");
        }

        errors.AddRange(Bans.Validate());
        _addresses = errors.Count == 0 ? (allowed, denied) : null;
        return errors;
    }
}

/// <summary>Configuration section <c>Security:Bans</c>: failed logins counted per client address across sessions.</summary>
public sealed class BanOptions : IValidatedOptions
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

    private AddressList? _exempt;

    /// <summary><see cref="Exempt"/>, parsed once by <see cref="Validate"/>.</summary>
    internal AddressList ExemptNetworks
    {
        get
        {
            if (_exempt is null)
            {
                this.ThrowIfInvalid();
            }

            return _exempt!;
        }
    }

    /// <summary>Every invalid key of <c>Security:Bans</c>, named.</summary>
    public IEnumerable<string> Validate()
    {
        var errors = new List<string>();
        var exempt = AddressList.Parse(Exempt, "Security:Bans:Exempt", errors);
        if (MaxFailures < 1)
        {
            errors.Add("Security:Bans:MaxFailures must be at least 1");
        }

        if (Window <= TimeSpan.Zero || Duration <= TimeSpan.Zero)
        {
            errors.Add("Security:Bans:Window and Security:Bans:Duration must be positive");
        }

        if (MaxDuration < Duration)
        {
            errors.Add("Security:Bans:MaxDuration must not be shorter than Security:Bans:Duration");
        }

        if (MaxTrackedAddresses < 1)
        {
            errors.Add("Security:Bans:MaxTrackedAddresses must be at least 1");
        }

        _exempt = errors.Count == 0 ? exempt : null;
        return errors;
    }
}

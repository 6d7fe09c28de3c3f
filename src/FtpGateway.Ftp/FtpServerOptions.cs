using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

namespace FtpGateway.Ftp;

/// <summary>Configuration section <c>Ftp</c>. Defaults suit a fleet of devices behind one NAT address.</summary>
public sealed class FtpServerOptions
{
    public const string SectionName = "Ftp";

    /// <summary>Control port. 0 picks a free port (tests).</summary>
    public int Port { get; set; } = 2121;

    /// <summary>Address to listen on; empty means every interface (IPv4 and IPv6).</summary>
    public string? ListenAddress { get; set; }

    /// <summary>Passive data ports, e.g. "50000-50099"; empty means any free port.</summary>
    public string? PassivePortRange { get; set; }

    /// <summary>IPv4 address PASV advertises (the load balancer's or NAT's); empty means the control connection's local address.</summary>
    public string? PublicAddress { get; set; }

    /// <summary>Allow PORT/EPRT (active mode); targets are always limited to the client's own address and ports ≥ 1024.</summary>
    public bool AllowActiveMode { get; set; } = true;

    /// <summary>Refuse passive data connections that come from another address than the control connection.</summary>
    public bool RequireSameDataPeer { get; set; } = true;

    public string Banner { get; set; } = "FtpGateway ready";

    /// <summary>Longest accepted command line in bytes; longer ones get 500 and are discarded.</summary>
    public int MaxCommandLineLength { get; set; } = 4096;

    /// <summary>A session with no command for this long (and no transfer running) is closed with 421.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long to wait for a data connection to open, and for data to move on an open one.</summary>
    public TimeSpan DataConnectionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Concurrent sessions, all clients together.</summary>
    public int MaxSessions { get; set; } = 2000;

    /// <summary>Concurrent sessions from one address (hundreds of devices often share one NAT address).</summary>
    public int MaxSessionsPerAddress { get; set; } = 2000;

    /// <summary>Delay before answering a failed login, to slow password guessing.</summary>
    public TimeSpan LoginFailureDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Failed logins after which the session is closed.</summary>
    public int MaxLoginFailures { get; set; } = 3;

    /// <summary>On shutdown (SIGTERM), how long running transfers may take to finish before they are cut off.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>FTPS (RFC 4217, explicit AUTH TLS).</summary>
    public FtpTlsOptions Tls { get; set; } = new();

    internal (int Start, int End)? ParsePassiveRange()
    {
        if (string.IsNullOrWhiteSpace(PassivePortRange))
        {
            return null;
        }

        var parts = PassivePortRange.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var end)
            && start is >= 1024 and <= 65535 && end >= start && end <= 65535)
        {
            return (start, end);
        }

        throw new FormatException($"Ftp:PassivePortRange '{PassivePortRange}' must look like 50000-50099 (ports 1024-65535)");
    }
}

/// <summary>Configuration section <c>Ftp:Tls</c>: explicit FTPS with a PEM certificate and key.</summary>
public sealed class FtpTlsOptions
{
    /// <summary>PEM certificate (chain) file. TLS is offered (AUTH TLS in FEAT) only when this is set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key file; may be omitted when the certificate file also holds the key.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Refuse USER on a clear-text control connection, and data transfers without PROT P.</summary>
    public bool Required { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>Start-up validation: a bad configuration stops the host with a message naming the key.</summary>
public sealed class FtpServerOptionsValidator : IValidateOptions<FtpServerOptions>
{
    public ValidateOptionsResult Validate(string? name, FtpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Port is < 0 or > 65535)
        {
            errors.Add($"Ftp:Port {options.Port} is not a TCP port");
        }

        if (!string.IsNullOrWhiteSpace(options.ListenAddress) && !IPAddress.TryParse(options.ListenAddress, out _))
        {
            errors.Add($"Ftp:ListenAddress '{options.ListenAddress}' is not an IP address");
        }

        if (!string.IsNullOrWhiteSpace(options.PublicAddress)
            && (!IPAddress.TryParse(options.PublicAddress, out var pub) || pub.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork))
        {
            errors.Add($"Ftp:PublicAddress '{options.PublicAddress}' must be an IPv4 address (PASV can only carry IPv4)");
        }

        try
        {
            options.ParsePassiveRange();
        }
        catch (FormatException ex)
        {
            errors.Add(ex.Message);
        }

        if (options.MaxCommandLineLength < 512)
        {
            errors.Add("Ftp:MaxCommandLineLength must be at least 512");
        }

        if (options.IdleTimeout <= TimeSpan.Zero || options.DataConnectionTimeout <= TimeSpan.Zero)
        {
            errors.Add("Ftp:IdleTimeout and Ftp:DataConnectionTimeout must be positive");
        }

        if (options.DrainTimeout < TimeSpan.Zero)
        {
            errors.Add("Ftp:DrainTimeout must not be negative");
        }

        if (options.MaxSessions < 1 || options.MaxSessionsPerAddress < 1)
        {
            errors.Add("Ftp:MaxSessions and Ftp:MaxSessionsPerAddress must be at least 1");
        }

        if (options.MaxLoginFailures < 1 || options.LoginFailureDelay < TimeSpan.Zero)
        {
            errors.Add("Ftp:MaxLoginFailures must be at least 1 and Ftp:LoginFailureDelay not negative");
        }

        if (options.Tls.Enabled && !File.Exists(options.Tls.CertificatePath))
        {
            errors.Add($"Ftp:Tls:CertificatePath '{options.Tls.CertificatePath}' does not exist");
        }

        if (options.Tls.Enabled && options.Tls.KeyPath is { Length: > 0 } key && !File.Exists(key))
        {
            errors.Add($"Ftp:Tls:KeyPath '{key}' does not exist");
        }

        if (options.Tls.Required && !options.Tls.Enabled)
        {
            errors.Add("Ftp:Tls:Required needs Ftp:Tls:CertificatePath");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

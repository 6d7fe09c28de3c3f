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

    /// <summary>
    /// A DNS name PASV advertises the IPv4 address of (re-resolved every 30 s): cloud load balancers have names,
    /// not fixed addresses. <c>{ordinal}</c> is this replica's ordinal. Ignored when <see cref="PublicAddress"/> is set.
    /// </summary>
    public string? PublicHost { get; set; }

    /// <summary>Per replica, the IPv4 address PASV advertises, indexed by the replica's ordinal (HA mode).</summary>
    public List<string> PublicAddresses { get; set; } = [];

    /// <summary>
    /// This replica's name or ordinal (a StatefulSet pod's name, <c>ftp-gateway-2</c>: the trailing number is the
    /// ordinal). With <see cref="Replicas"/> above 1, the replica owns its slice of the passive range.
    /// </summary>
    public string? Replica { get; set; }

    /// <summary>How many replicas share the passive range (HA mode); 1: all of it.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>This replica's ordinal (0 when no <see cref="Replica"/> is set).</summary>
    internal int Ordinal =>
        string.IsNullOrWhiteSpace(Replica) ? 0
        : int.TryParse(Replica.AsSpan(Replica.LastIndexOf('-') + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
        : -1;

    /// <summary>The passive ports this replica owns: its slice of the range when several replicas share it.</summary>
    internal (int Start, int End)? OwnPassiveRange()
    {
        if (ParsePassiveRange() is not { } range || Replicas <= 1)
        {
            return ParsePassiveRange();
        }

        var size = (range.End - range.Start + 1) / Replicas;
        var start = range.Start + (Ordinal * size);
        return (start, Ordinal == Replicas - 1 ? range.End : start + size - 1);
    }

    /// <summary>
    /// Answer EPSV. An EPSV client connects its data connection to the address of its control connection; in the HA
    /// mode that is the shared control Service, which has no passive ports, so the chart turns EPSV off there and
    /// clients fall back to PASV (502 is the answer they all know to fall back on).
    /// </summary>
    public bool AllowEpsv { get; set; } = true;

    /// <summary>Allow PORT/EPRT (active mode); targets are always limited to the client's own address and ports ≥ 1024.</summary>
    public bool AllowActiveMode { get; set; } = true;

    /// <summary>Refuse passive data connections that come from another address than the control connection.</summary>
    public bool RequireSameDataPeer { get; set; } = true;

    public string Banner { get; set; } = "FtpGateway ready";

    /// <summary>Longest accepted command line in bytes; longer ones get 500 and are discarded.</summary>
    public int MaxCommandLineLength { get; set; } = 4096;

    /// <summary>A connection that has not logged in by then is closed with 421 (separate from the idle timeout).</summary>
    public TimeSpan LoginTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A transfer that moves fewer bytes per second than this over <see cref="MinDataRateWindow"/> is cut off with 426; 0 is off.</summary>
    public long MinDataRateBytesPerSecond { get; set; }

    /// <summary>The window <see cref="MinDataRateBytesPerSecond"/> is measured over.</summary>
    public TimeSpan MinDataRateWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A session with no command for this long (and no transfer running) is closed with 421.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest idle timeout a client may ask for with SITE IDLE (the shortest is 30 seconds).</summary>
    public TimeSpan MaxIdleTimeout { get; set; } = TimeSpan.FromHours(2);

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

    /// <summary>
    /// On shutdown, how long to keep accepting sessions while readiness already says "not ready", so that load
    /// balancers stop sending new connections before the listener closes (what a preStop sleep does, without a
    /// shell in the image). Then the drain begins.
    /// </summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.Zero;

    /// <summary>FTPS (RFC 4217, explicit AUTH TLS; implicit TLS on a second port).</summary>
    public FtpTlsOptions Tls { get; set; } = new();

    /// <summary>PROXY protocol (v1 and v2) from trusted load balancers.</summary>
    public ProxyProtocolOptions ProxyProtocol { get; set; } = new();

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

        throw new FormatException(parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var first) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var last) && first > last
            ? $"Ftp:PassivePortRange '{PassivePortRange}' is reversed: write the lower port first ({last}-{first})"
            : $"Ftp:PassivePortRange '{PassivePortRange}' must look like 50000-50099 (ports 1024-65535)");
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

    /// <summary>
    /// A second control port where TLS starts at connect (implicit FTPS, classically 990) and data connections
    /// are protected from the start (PROT P). Empty: off; 0: a free port (tests).
    /// </summary>
    public int? ImplicitPort { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>Configuration section <c>Ftp:ProxyProtocol</c>.</summary>
public sealed class ProxyProtocolOptions
{
    /// <summary>
    /// Load balancers (CIDR) whose connections must start with a PROXY protocol header (v1 or v2); the header's
    /// source address is then the client's address for everything.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>How long a trusted proxy may take to send the header.</summary>
    public TimeSpan HeaderTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Start-up validation: a bad configuration stops the host with a message naming the key.</summary>
public sealed class FtpServerOptionsValidator : IValidateOptions<FtpServerOptions>
{
    public ValidateOptionsResult Validate(string? name, FtpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Network(options).Concat(Limits(options)).Concat(Tls(options.Tls)).ToList();
        if (options.Tls.ImplicitPort is > 0 and var implicitPort)
        {
            var passive = errors.Count == 0 ? options.ParsePassiveRange() : null;
            if (implicitPort == options.Port || (passive is { } r && implicitPort >= r.Start && implicitPort <= r.End))
            {
                errors.Add($"Ftp:Tls:ImplicitPort {implicitPort} must differ from Ftp:Port and lie outside Ftp:PassivePortRange");
            }
        }

        Security.AddressList.Parse(options.ProxyProtocol.TrustedProxies, "Ftp:ProxyProtocol:TrustedProxies", errors);
        if (options.ProxyProtocol.HeaderTimeout <= TimeSpan.Zero)
        {
            errors.Add("Ftp:ProxyProtocol:HeaderTimeout must be positive");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static IEnumerable<string> Network(FtpServerOptions o)
    {
        if (o.Port is < 0 or > 65535)
        {
            yield return $"Ftp:Port {o.Port} is not a TCP port";
        }

        if (!string.IsNullOrWhiteSpace(o.ListenAddress) && !IPAddress.TryParse(o.ListenAddress, out _))
        {
            yield return $"Ftp:ListenAddress '{o.ListenAddress}' is not an IP address";
        }

        if (!string.IsNullOrWhiteSpace(o.PublicAddress)
            && (!IPAddress.TryParse(o.PublicAddress, out var pub) || pub.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork))
        {
            yield return $"Ftp:PublicAddress '{o.PublicAddress}' must be an IPv4 address (PASV can only carry IPv4)";
        }

        for (var i = 0; i < o.PublicAddresses.Count; i++)
        {
            if (!IPAddress.TryParse(o.PublicAddresses[i], out var each) || each.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            {
                yield return $"Ftp:PublicAddresses:{i} '{o.PublicAddresses[i]}' must be an IPv4 address";
            }
        }

        if (o.Replicas < 1 || o.Ordinal < 0 || o.Ordinal >= o.Replicas)
        {
            yield return $"Ftp:Replica '{o.Replica}' must end in an ordinal below Ftp:Replicas ({o.Replicas})";
        }

        if (o.PublicAddresses.Count > 0 && o.PublicAddresses.Count <= o.Ordinal)
        {
            yield return $"Ftp:PublicAddresses has no entry for replica {o.Ordinal}";
        }

        if (o.Replicas > 1 && string.IsNullOrWhiteSpace(o.PassivePortRange))
        {
            yield return "Ftp:Replicas above 1 needs Ftp:PassivePortRange (each replica owns a slice of it)";
        }

        if (!string.IsNullOrWhiteSpace(o.PublicHost) && Uri.CheckHostName(o.PublicHost.Replace("{ordinal}", "0", StringComparison.Ordinal)) != UriHostNameType.Dns)
        {
            yield return $"Ftp:PublicHost '{o.PublicHost}' must be a DNS name";
        }

        if (o.Replicas > 1 && o.PassivePortRange is { Length: > 0 } && ParsedRangeSize(o) < o.Replicas)
        {
            yield return $"Ftp:PassivePortRange must hold at least one port per replica ({o.Replicas})";
        }

        string? range = null;
        try
        {
            o.ParsePassiveRange();
        }
        catch (FormatException ex)
        {
            range = ex.Message;
        }

        if (range is not null)
        {
            yield return range;
        }
    }

    private static int ParsedRangeSize(FtpServerOptions o)
    {
        try
        {
            return o.ParsePassiveRange() is { } r ? r.End - r.Start + 1 : int.MaxValue;
        }
        catch (FormatException)
        {
            return int.MaxValue; // reported on its own
        }
    }

    private static IEnumerable<string> Limits(FtpServerOptions o)
    {
        if (o.MaxCommandLineLength < 512)
        {
            yield return "Ftp:MaxCommandLineLength must be at least 512";
        }

        if (o.IdleTimeout <= TimeSpan.Zero || o.DataConnectionTimeout <= TimeSpan.Zero || o.LoginTimeout <= TimeSpan.Zero)
        {
            yield return "Ftp:IdleTimeout, Ftp:DataConnectionTimeout and Ftp:LoginTimeout must be positive";
        }

        if (o.MinDataRateBytesPerSecond < 0)
        {
            yield return "Ftp:MinDataRateBytesPerSecond must not be negative (0 is off)";
        }

        if (o.MinDataRateWindow < TimeSpan.FromSeconds(1))
        {
            yield return "Ftp:MinDataRateWindow must be at least 00:00:01";
        }

        if (o.MaxIdleTimeout < TimeSpan.FromSeconds(30))
        {
            yield return "Ftp:MaxIdleTimeout must be at least 00:00:30 (SITE IDLE accepts 30 seconds and more)";
        }
        else if (o.MaxIdleTimeout < o.IdleTimeout)
        {
            yield return "Ftp:MaxIdleTimeout must not be shorter than Ftp:IdleTimeout (SITE IDLE may lengthen a session's timeout up to it)";
        }

        if (o.DrainTimeout < TimeSpan.Zero || o.DrainDelay < TimeSpan.Zero)
        {
            yield return "Ftp:DrainTimeout and Ftp:DrainDelay must not be negative";
        }

        if (o.MaxSessions < 1 || o.MaxSessionsPerAddress < 1)
        {
            yield return "Ftp:MaxSessions and Ftp:MaxSessionsPerAddress must be at least 1";
        }

        if (o.MaxLoginFailures < 1 || o.LoginFailureDelay < TimeSpan.Zero)
        {
            yield return "Ftp:MaxLoginFailures must be at least 1 and Ftp:LoginFailureDelay not negative";
        }
    }

    private static IEnumerable<string> Tls(FtpTlsOptions tls)
    {
        if (tls.Enabled && !File.Exists(tls.CertificatePath))
        {
            yield return $"Ftp:Tls:CertificatePath '{tls.CertificatePath}' does not exist";
        }

        if (tls.Enabled && tls.KeyPath is { Length: > 0 } key && !File.Exists(key))
        {
            yield return $"Ftp:Tls:KeyPath '{key}' does not exist";
        }

        if (tls.Required && !tls.Enabled)
        {
            yield return "Ftp:Tls:Required needs Ftp:Tls:CertificatePath";
        }

        if (tls.ImplicitPort is { } port && (port is < 0 or > 65535 || !tls.Enabled))
        {
            yield return $"Ftp:Tls:ImplicitPort {port} needs Ftp:Tls:CertificatePath and must be a TCP port";
        }
    }
}

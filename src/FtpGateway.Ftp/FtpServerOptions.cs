using System.Globalization;

namespace FtpGateway.Ftp;

/// <summary>Configuration section <c>Ftp</c>. Defaults suit a fleet of devices behind one NAT address.</summary>
public sealed class FtpServerOptions : IValidatedOptions
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

    /// <summary>How many replicas share the passive range (the per-pod-address HA mode); 1: all of it.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>
    /// The shared-address HA mode: the passive ports each gateway owns, from <c>start + ordinal × k</c> of
    /// <see cref="PassivePortRange"/> (which covers the most replicas you will run); 0: off. A gateway added or
    /// removed moves no other gateway's ports.
    /// </summary>
    public int PassivePortsPerReplica { get; set; }

    /// <summary>Data connections relayed to the gateway that owns their port (<c>Ftp:Relay</c>).</summary>
    public Transfers.Relay.FtpRelayOptions Relay { get; set; } = new();

    /// <summary>This replica's ordinal (0 when no <see cref="Replica"/> is set).</summary>
    internal int Ordinal =>
        string.IsNullOrWhiteSpace(Replica) ? 0
        : int.TryParse(Replica.AsSpan(Replica.LastIndexOf('-') + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
        : -1;

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

    /// <summary>The default of the users' <c>createDirectories</c>: uploads into a missing directory create it.</summary>
    public bool CreateDirectories { get; set; }

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

    private FtpNetwork? _network;

    /// <summary>
    /// The values of this section that need parsing (addresses, the passive range and this replica's slice of it),
    /// parsed once by <see cref="Validate"/> (or on first use, for options that were never validated).
    /// </summary>
    internal FtpNetwork Network
    {
        get
        {
            if (_network is null)
            {
                var errors = new List<string>();
                var network = FtpNetwork.Parse(this, errors);
                _network = errors.Count == 0 ? network : throw new InvalidOperationException(string.Join("; ", errors));
            }

            return _network;
        }
    }

    /// <summary>Every invalid key of the section, named; when there is none, <see cref="Network"/> holds the parsed values.</summary>
    public IEnumerable<string> Validate()
    {
        var errors = new List<string>();
        var network = FtpNetwork.Parse(this, errors);
        errors.AddRange(FtpServerOptionsRules.Limits(this));
        errors.AddRange(FtpServerOptionsRules.Tls(Tls));
        if (Tls.ImplicitPort is > 0 and var implicitPort && (implicitPort == Port || network.PassiveRange?.Contains(implicitPort) == true))
        {
            errors.Add($"Ftp:Tls:ImplicitPort {implicitPort} must differ from Ftp:Port and lie outside Ftp:PassivePortRange");
        }

        if (ProxyProtocol.HeaderTimeout <= TimeSpan.Zero)
        {
            errors.Add("Ftp:ProxyProtocol:HeaderTimeout must be positive");
        }

        _network = errors.Count == 0 ? network : null;
        return errors;
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

    /// <summary>The oldest TLS version accepted: <c>Tls12</c> (default), <c>Tls13</c>, or for old devices <c>Tls11</c>, <c>Tls10</c>.</summary>
    public string MinVersion { get; set; } = "Tls12";

    /// <summary>The cipher suites offered, by IANA name; empty: the TLS library's defaults.</summary>
    public List<string> CipherSuites { get; set; } = [];

    /// <summary>The implicit port's own MinVersion and CipherSuites (old devices there, the explicit port strict); unset: as above.</summary>
    public FtpTlsListenerOptions Implicit { get; set; } = new();

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);

    /// <summary>The explicit port's policy (AUTH TLS), parsed (<paramref name="errors"/> names what is wrong).</summary>
    internal Security.TlsPolicy ExplicitPolicy(List<string>? errors = null) => Security.TlsPolicy.Parse(MinVersion, CipherSuites, "Ftp:Tls", errors ?? []);

    /// <summary>The implicit port's policy as it applies: its own settings where given, else the explicit port's.</summary>
    internal Security.TlsPolicy ImplicitPolicy(List<string>? errors = null) => Security.TlsPolicy.Parse(
        Implicit.MinVersion ?? MinVersion, Implicit.CipherSuites.Count > 0 ? Implicit.CipherSuites : CipherSuites, "Ftp:Tls:Implicit", errors ?? []);
}

/// <summary>Configuration section <c>Ftp:Tls:Implicit</c>: the implicit FTPS port's own TLS versions and suites.</summary>
public sealed class FtpTlsListenerOptions
{
    /// <summary>As Ftp:Tls:MinVersion, for the implicit port only; null: Ftp:Tls:MinVersion.</summary>
    public string? MinVersion { get; set; }

    /// <summary>As Ftp:Tls:CipherSuites, for the implicit port only; empty: Ftp:Tls:CipherSuites.</summary>
    public List<string> CipherSuites { get; set; } = [];
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

/// <summary>The rules of the <c>Ftp</c> section that need no parsing.</summary>
internal static class FtpServerOptionsRules
{
    public static IEnumerable<string> Limits(FtpServerOptions o)
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

    public static IEnumerable<string> Tls(FtpTlsOptions tls)
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

        var errors = new List<string>();
        tls.ExplicitPolicy(errors);
        tls.ImplicitPolicy(errors); // as it applies, the explicit port's settings inherited
        foreach (var error in errors.Distinct(StringComparer.Ordinal))
        {
            yield return error;
        }
    }
}

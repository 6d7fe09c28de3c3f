using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp;

/// <summary>What every session shares: configuration, storage, users, passive ports, certificate, bans.</summary>
internal sealed partial class FtpServerContext(
    FtpServerOptions options,
    IReadOnlyDictionary<string, IStorageProvider> targets,
    UserStore users,
    PassivePortPool passivePorts,
    ServerCertificate? certificate,
    ILoggerFactory loggerFactory,
    TimeProvider time,
    FtpTelemetry telemetry,
    BanList bans,
    PasswordChecks passwordChecks,
    HttpAuthHook? authHook = null,
    Audit.AuditTrail? audit = null,
    Events.EventPublisher? events = null,
    State.IFleetState? fleet = null)
{
    /// <summary>The state the fleet shares (State:Redis); null: this gateway is on its own.</summary>
    public State.IFleetState? Fleet => fleet;

    /// <summary>Scanning (its fallbacks); the scanner itself is <see cref="Scanner"/>.</summary>
    public Checks.ScanningOptions Scanning { get; init; } = new();

    /// <summary>What the quarantine spools may hold at once (Scanning:QuarantineSpoolBytes).</summary>
    public Checks.SpoolBudget QuarantineSpools => field ??= new Checks.SpoolBudget(Scanning.QuarantineSpoolBytes);

    /// <summary>clamd, when Scanning:Clamd:Address is set; null: uploads are not scanned.</summary>
    public Checks.ClamdScanner? Scanner { get; init; }

    /// <summary>This gateway's name: its name in the fleet, else Ftp:Replica, else the host name.</summary>
    public string GatewayName { get; } = fleet?.Gateway ?? (string.IsNullOrWhiteSpace(options.Replica) ? Environment.MachineName : options.Replica);

    /// <summary>Bans across the fleet: failures counted on the shared count, bans and unbans on every gateway.</summary>
    public FleetBans FleetBans { get; } = new(bans, fleet, bans.Options, loggerFactory.CreateLogger("FtpGateway.Ftp.Bans"));

    /// <summary>Events for downstream systems (webhooks); a no-op without any.</summary>
    public Events.EventPublisher Events { get; } = events ?? FtpGateway.Ftp.Events.EventPublisher.None;

    /// <summary>What events say about a path: where it lives in its target's store.</summary>
    public string? Locate(string target, StoragePath path) => targets.TryGetValue(target, out var storage) ? storage.Locate(path) : null;

    /// <summary>One line per finished upload or download (log category FtpGateway.Audit, and the audit file).</summary>
    public Audit.AuditTrail Audit { get; } = audit ?? FtpGateway.Ftp.Audit.AuditTrail.LogOnly(loggerFactory);

    /// <summary>The HTTP authentication hook for users defined nowhere else, if configured.</summary>
    public HttpAuthHook? AuthHook => authHook;

    /// <summary>Failed logins per client address across sessions, and the bans they lead to.</summary>
    public BanList Bans => bans;

    /// <summary>Who may log in (the password or the hook, failures and bans, the user's limits).</summary>
    public Authenticator Authenticator => field ??= new Authenticator(this);

    /// <summary>Where password verifications run (bounded, in turn per address).</summary>
    public PasswordChecks PasswordChecks => passwordChecks;

    /// <summary>Load balancers whose connections (control and passive data) start with a PROXY protocol header.</summary>
    public AddressList TrustedProxies => options.Network.TrustedProxies;

    public FtpTelemetry Telemetry => telemetry;

    public FtpServerOptions Options => options;

    /// <summary>The default storage target (the top-level <c>Storage</c>).</summary>
    public IStorageProvider Storage { get; } = targets[StorageTargets.Default];

    /// <summary>Every storage target by name, instrumented; <see cref="StorageTargets.Default"/> is <see cref="Storage"/>.</summary>
    public IReadOnlyDictionary<string, IStorageProvider> Targets => targets;

    /// <summary>The users in force now (<see cref="UserStore.Current"/>; the users file reloads).</summary>
    public UserStore Users => users;

    /// <summary>What each user's sessions share: the session count and bandwidth.</summary>
    public UserSessions UserSessions { get; } = new(time, fleet);

    /// <summary>Each user's last login and upload and the day's uploads (the operator API).</summary>
    public UserRecords UserRecords { get; } = new(time, fleet);

    public PassivePortPool PassivePorts => passivePorts;

    /// <summary>Counters and notes on the fleet's shared state, or this gateway's (guardrails, own uploads).</summary>
    public State.SharedCounters Counters { get; } = new(time, fleet);

    /// <summary>Names uploads under <c>onExistingFile: Rename</c> are about to store under.</summary>
    public Transfers.NameReservations Names { get; } = new(time);

    /// <summary>The certificate new TLS connections get (renewed while the gateway runs); null without FTPS.</summary>
    public X509Certificate2? Certificate => certificate?.Current;

    /// <summary>The watched certificate files (null without FTPS).</summary>
    public ServerCertificate? Certificates => certificate;

    public ILoggerFactory LoggerFactory => loggerFactory;

    public TimeProvider Time => time;

    private readonly System.Net.IPAddress? _fixedPublicAddress = options.Network.PublicAddress;

    private volatile System.Net.IPAddress? _resolvedPublicHost;
    private ITimer? _resolving;

    /// <summary>
    /// The IPv4 address PASV advertises: Ftp:PublicAddress, this replica's entry of Ftp:PublicAddresses, or the
    /// last address Ftp:PublicHost resolved to; null: the control connection's own.
    /// </summary>
    public System.Net.IPAddress? PublicAddress => _fixedPublicAddress ?? _resolvedPublicHost;

    /// <summary>
    /// Resolves Ftp:PublicHost now and every 30 s (a load balancer's name can move); the last good answer stays.
    /// Returns the first resolution, which the start waits for (a bounded moment), so that the first PASV already
    /// carries the name's address.
    /// </summary>
    public Task StartResolvingPublicHost()
    {
        if (_fixedPublicAddress is not null || string.IsNullOrWhiteSpace(options.PublicHost))
        {
            return Task.CompletedTask;
        }

        var host = options.PublicHost.Replace("{ordinal}", options.Network.Ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var logger = loggerFactory.CreateLogger("FtpGateway.Ftp.PublicHost");
        async Task ResolveAsync()
        {
            try
            {
                var addresses = await System.Net.Dns.GetHostAddressesAsync(host);
                _resolvedPublicHost = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? _resolvedPublicHost;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.PublicHostUnresolved(logger, host, ex.Message); // the last good address stays
            }
        }

        // Resolved in the background, and again every 30 s.
        var first = ResolveAsync();
        _resolving = time.CreateTimer(_ => _ = ResolveAsync(), null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
        return first;
    }

    public void StopResolvingPublicHost() => _resolving?.Dispose();

    /// <summary>The explicit port's TLS (AUTH TLS): Ftp:Tls:MinVersion and CipherSuites.</summary>
    public Security.TlsPolicy ExplicitTls { get; } = options.Tls.ExplicitPolicy();

    /// <summary>The implicit port's TLS: Ftp:Tls:Implicit, else as the explicit port's.</summary>
    public Security.TlsPolicy ImplicitTls { get; } = options.Tls.ImplicitPolicy();

    /// <summary>The control connection's TLS under <paramref name="policy"/> (TLS 1.2 and 1.3 by default), with the certificate in force now.</summary>
    public SslServerAuthenticationOptions ControlTlsOptions(Security.TlsPolicy policy) => new()
    {
        ServerCertificate = Certificate,
        EnabledSslProtocols = policy.Protocols,
        CipherSuitesPolicy = policy.Suites,
        ClientCertificateRequired = false,
    };

    /// <summary>
    /// A data connection's TLS, chosen from the client's hello: TLS 1.2 when the client offers it, TLS 1.3 to a
    /// client that offers nothing older. A TLS 1.3 server may send session tickets after the handshake; a client that
    /// only uploads never reads them, and when it closes with unread data its kernel resets the connection, which
    /// discards the end of the file still on its way (curl issue 6149, proftpd issue 2015). The executable turns the
    /// tickets off in OpenSSL (FtpGateway's TlsLibrary), so TLS 1.3-only clients upload safely; TLS 1.2 spares the
    /// others the question wherever the library is configured otherwise.
    /// </summary>
    public SslServerAuthenticationOptions DataTlsOptions(SslProtocols offered, X509Certificate2? sessionCertificate, Security.TlsPolicy? policy = null) => new()
    {
        ServerCertificate = sessionCertificate ?? Certificate, // the session's own: the one of its control connection
        EnabledSslProtocols = (policy ?? ExplicitTls).ForData(offered),
        CipherSuitesPolicy = (policy ?? ExplicitTls).Suites,
        ClientCertificateRequired = false,
        AllowTlsResume = false,
    };
}

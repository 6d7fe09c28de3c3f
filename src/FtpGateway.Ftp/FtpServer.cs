using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FtpGateway.Ftp;

/// <summary>
/// The FTP listeners (explicit and implicit TLS): accept control connections, read the PROXY header of a
/// trusted load balancer, admit or refuse the client (address rules, bans, session limits) before any greeting,
/// run one <see cref="FtpSession"/> per connection and clean up after it.
/// </summary>
public sealed class FtpServer : IHostedLifecycleService, IAsyncDisposable
{
    private readonly FtpServerContext _context;
    private readonly ILogger<FtpServer> _logger;
    private readonly AddressList _allowed;
    private readonly AddressList _denied;
    private readonly ConcurrentDictionary<string, (FtpSession Session, Task Task)> _sessions = new();
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly FtpTelemetry? _ownedTelemetry;
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly ConcurrentDictionary<Task, bool> _headerReads = new();
    private long _nextId;

    // Session ids are unique across restarts and gateways: a random prefix for this process, then a counter.
    private readonly string _idPrefix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(5));
    private int _stopped;
    private Task? _drain;

    public FtpServer(
        IOptions<FtpServerOptions> options,
        IStorageProvider storage,
        UserStore users,
        ILoggerFactory loggerFactory,
        FtpTelemetry? telemetry = null,
        TimeProvider? time = null,
        IOptions<SecurityOptions>? security = null,
        HttpAuthHook? authHook = null,
        StorageTargets? targets = null,
        Audit.AuditTrail? audit = null,
        Events.EventPublisher? events = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        var s = security?.Value ?? new SecurityOptions();
        time ??= TimeProvider.System;
        _logger = loggerFactory.CreateLogger<FtpServer>();
        _ownedTelemetry = telemetry is null ? new FtpTelemetry() : null;
        telemetry ??= _ownedTelemetry!;
        _allowed = AddressList.Parse(s.AllowedAddresses, "Security:AllowedAddresses");
        _denied = AddressList.Parse(s.DeniedAddresses, "Security:DeniedAddresses");
        ArgumentNullException.ThrowIfNull(users);
        users.Changed += OnUsersChanged;
        var ports = new PassivePortPool(o.OwnPassiveRange());
        telemetry.ObservePassivePorts(() => ports.InUse);
        _context = new FtpServerContext(
            o,
            (targets ?? new StorageTargets(storage)).All.ToDictionary(t => t.Key, t => (IStorageProvider)new InstrumentedStorageProvider(t.Value, telemetry, t.Key), StringComparer.Ordinal),
            users,
            ports,
            LoadCertificate(o.Tls),
            loggerFactory,
            time,
            telemetry,
            new BanList(s.Bans, time, loggerFactory.CreateLogger("FtpGateway.Ftp.Bans"), telemetry),
            new PasswordChecks(s.PasswordCheckers),
            authHook,
            audit,
            events);
        _context.Bans.Banned += (address, duration, bans) => _context.Events.Publish(
            Events.EventTypes.AddressBanned, address, string.Empty, new Events.BanEventData(address, (long)duration.TotalSeconds, bans));
    }

    /// <summary>Where the server listens (the real port when configured with port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Where implicit FTPS listens, when <see cref="FtpTlsOptions.ImplicitPort"/> is set.</summary>
    public IPEndPoint? ImplicitTlsEndPoint { get; private set; }

    public int ActiveSessions => _sessions.Count;

    /// <summary>Bans in force now.</summary>
    public int ActiveBans => _context.Bans.Active;

    /// <summary>True once shutdown has begun: readiness reports not ready, no new sessions or transfers start.</summary>
    public bool IsDraining { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = _context.Options;
        var listener = Listen(o.Port, "Ftp:Port");
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        if (o.Tls.ImplicitPort is { } implicitPort)
        {
            ImplicitTlsEndPoint = (IPEndPoint)Listen(implicitPort, "Ftp:Tls:ImplicitPort").LocalEndPoint!;
        }

        var own = o.OwnPassiveRange() is { } r ? $"{r.Start}-{r.End}" : "any";
        Log.Listening(_logger, LocalEndPoint, own, o.PublicAddress ?? o.PublicHost ?? "control connection's", _context.Storage.Name);
        _context.StartResolvingPublicHost();
        if (ImplicitTlsEndPoint is not null)
        {
            Log.ListeningImplicitTls(_logger, ImplicitTlsEndPoint);
        }

        for (var i = 0; i < _listeners.Count; i++)
        {
            _acceptLoops.Add(AcceptLoopAsync(_listeners[i], implicitTls: i == 1, _stopping.Token));
        }

        return Task.CompletedTask;
    }

    /// <summary>A listening socket on <paramref name="port"/>; a port in use stops the start with a message naming <paramref name="key"/>.</summary>
    private Socket Listen(int port, string key)
    {
        var o = _context.Options;
        var address = string.IsNullOrWhiteSpace(o.ListenAddress) ? IPAddress.IPv6Any : IPAddress.Parse(o.ListenAddress);
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Equals(IPAddress.IPv6Any))
        {
            listener.DualMode = true; // every interface: IPv4 and IPv6
        }

        try
        {
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(512);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            var where = address.Equals(IPAddress.IPv6Any) ? $"every interface, port {port}" : $"{address}:{port}";
            throw new InvalidOperationException(ex.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => $"{key}: {where} is already in use by another program",
                SocketError.AccessDenied => $"{key}: {where} may not be opened by this user (ports below 1024 need privileges)",
                SocketError.AddressNotAvailable => $"{key}: {where}: Ftp:ListenAddress is not an address of this machine",
                _ => $"{key}: cannot listen on {where}: {ex.Message}",
            }, ex);
        }

        _listeners.Add(listener);
        return listener;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs before any hosted service stops, so the management endpoint still answers (readiness 503,
    /// metrics) while the FTP sessions drain.
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_listeners.Count == 0 || Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return; // never started, or already stopped (the host stops, then disposes)
        }

        await DrainAsync(cancellationToken);

        // Whatever is left is cut off: its transfers are cancelled and commit nothing.
        await _stopping.CancelAsync();
        await Task.WhenAll(_acceptLoops);
        await Task.WhenAll(_headerReads.Keys);
        await Task.WhenAll(_sessions.Values.Select(s => s.Task)).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Log.Stopped(_logger);
    }

    /// <summary>Refuses new connections and lets running transfers finish within the drain timeout (once).</summary>
    private Task DrainAsync(CancellationToken cancellationToken)
    {
        lock (_sessions)
        {
            return _drain ??= RunDrainAsync(cancellationToken);
        }
    }

    private async Task RunDrainAsync(CancellationToken cancellationToken)
    {
        if (_listeners.Count == 0)
        {
            return;
        }

        IsDraining = true; // readiness says "not ready" from now on
        if (_context.Options.DrainDelay > TimeSpan.Zero)
        {
            // Keep accepting while the load balancers notice; then close the listener and drain.
            await Task.Delay(_context.Options.DrainDelay, _context.Time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _listeners.ForEach(l => l.Dispose());
        var sessions = _sessions.Values.ToList();
        Log.Draining(_logger, sessions.Count, _context.Options.DrainTimeout.TotalSeconds);
        try
        {
            await Task.WhenAll(sessions.Select(s => s.Session.DrainAsync())).WaitAsync(_context.Options.DrainTimeout, _context.Time, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            Log.DrainTimedOut(_logger, _sessions.Count);
        }
    }

    private async Task AcceptLoopAsync(Socket listener, bool implicitTls, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (IsDraining || ct.IsCancellationRequested)
            {
                return; // the listener closed under a pending accept: shutting down, not a failure
            }
            catch (SocketException ex)
            {
                Log.AcceptFailed(_logger, ex);
                continue;
            }

            socket.NoDelay = true;
            var peer = (IPEndPoint)socket.RemoteEndPoint!;
            if (_context.TrustedProxies.Contains(peer.Address))
            {
                // The header may take a while: read it beside this loop, at most MaxSessions at once.
                if (_headerReads.Count >= _context.Options.MaxSessions)
                {
                    socket.Dispose();
                    continue;
                }

                var read = AcceptProxiedAsync(socket, peer, implicitTls, ct);
                _headerReads[read] = true;
                _ = read.ContinueWith(t => _headerReads.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            else
            {
                Admit(new ClientConnection(socket, peer, null, implicitTls), ct);
            }
        }
    }

    /// <summary>A trusted load balancer's connection: its PROXY header names the client, or the connection closes.</summary>
    private async Task AcceptProxiedAsync(Socket socket, IPEndPoint proxy, bool implicitTls, CancellationToken ct)
    {
        ProxyHeader header;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_context.Options.ProxyProtocol.HeaderTimeout);
            header = await ProxyHeader.ReadAsync(socket, timeout.Token);
        }
        catch (Exception ex) when (ex is ProxyHeaderException or SocketException or OperationCanceledException)
        {
            Log.ProxyHeaderRefused(_logger, Addresses.Normalize(proxy.Address), ex is OperationCanceledException ? "no header in time" : ex.Message);
            _context.Telemetry.RefusedConnections.Add(1, new KeyValuePair<string, object?>("ftp.refusal", "proxy_header"));
            socket.Dispose();
            return;
        }

        if (IsDraining || ct.IsCancellationRequested)
        {
            socket.Dispose();
            return;
        }

        Admit(new ClientConnection(socket, header.Source ?? proxy, header.Destination, implicitTls), ct);
    }

    /// <summary>Starts a session for the connection, or refuses it before any greeting.</summary>
    private void Admit(ClientConnection connection, CancellationToken ct)
    {
        var address = Addresses.Normalize(connection.Remote.Address);
        var (reason, text) = Check(address);
        if (reason is not null)
        {
            _context.Telemetry.RefusedConnections.Add(1, new KeyValuePair<string, object?>("ftp.refusal", reason));
            if (reason is "session_limit" or "address_limit")
            {
                Log.ConnectionRefused(_logger, address, text!);
            }
            else
            {
                Log.ConnectionRefusedQuietly(_logger, address, text!); // one line per ban is enough; a banned scanner retries for ever
            }

            _ = RefuseAsync(connection.Socket, connection.ImplicitTls ? null : text);
            return;
        }

        var id = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_idPrefix}-{Interlocked.Increment(ref _nextId):x6}");
        var session = new FtpSession(_context, connection, id, ct);
        var task = RunSessionAsync(session, address);
        _sessions[id] = (session, task);
    }

    /// <summary>Address rules, then bans, then the session limits (only a client that passes holds a slot).</summary>
    private (string? Reason, string? Text) Check(IPAddress address)
    {
        if (_denied.Contains(address) || (!_allowed.IsEmpty && !_allowed.Contains(address)))
        {
            return ("address_rule", "Your address may not connect to this server.");
        }

        if (_context.Bans.IsBanned(address))
        {
            return ("banned", "Your address is banned after too many failed logins; try again later.");
        }

        var o = _context.Options;
        if (_sessions.Count >= o.MaxSessions)
        {
            return ("session_limit", "Too many connections; try again later.");
        }

        // One client is an IPv4 address or an IPv6 /64, as bans count it.
        var count = _perAddress.AddOrUpdate(Addresses.ClientKey(address), 1, (_, n) => n + 1);
        if (count > o.MaxSessionsPerAddress)
        {
            Release(address);
            return ("address_limit", "Too many connections from your address; try again later.");
        }

        return (null, null);
    }

    private void Release(IPAddress address)
    {
        var key = Addresses.ClientKey(address);
        var remaining = _perAddress.AddOrUpdate(key, 0, (_, n) => n - 1);
        if (remaining <= 0)
        {
            _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(key, remaining));
        }
    }

    /// <summary>
    /// RFC 959 §4.2: 421 may be sent in reply to the connection itself. On the implicit-TLS port the client
    /// expects a handshake, not text: the connection just closes.
    /// </summary>
    private static async Task RefuseAsync(Socket socket, string? reason)
    {
        using (socket)
        {
            try
            {
                if (reason is null)
                {
                    socket.Shutdown(SocketShutdown.Both);
                    return;
                }

                await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"421 {reason}\r\n"));
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }
        }
    }

    private async Task RunSessionAsync(FtpSession session, IPAddress address)
    {
        await Task.Yield();
        try
        {
            await session.RunAsync();
        }
        catch (Exception ex)
        {
            Log.UnexpectedError(_logger, ex, "session");
        }
        finally
        {
            Release(address); // the client's slot is free once the session is gone from the count
            _sessions.TryRemove(session.Id, out _); // before the dispose, so a drain never reaches a disposed session
            await session.DisposeAsync();
        }
    }

    /// <summary>
    /// After a users-file reload: sessions of users removed, disabled or changed (a new password, root, target,
    /// limit) end once their running transfer has finished; the user logs in again with the new settings.
    /// </summary>
    private void OnUsersChanged(UserDirectory previous, UserDirectory current)
    {
        foreach (var (session, _) in _sessions.Values)
        {
            if (session.User is { IsAnonymous: false, FromHook: false } user && !current.IsCurrent(user))
            {
                Log.UserSessionsClosing(_logger, user.Name);
                _ = session.CloseForChangedUserAsync();
            }
        }
    }

    private static X509Certificate2? LoadCertificate(FtpTlsOptions tls) =>
        !tls.Enabled ? null
        : string.IsNullOrWhiteSpace(tls.KeyPath) ? X509Certificate2.CreateFromPemFile(tls.CertificatePath!)
        : X509Certificate2.CreateFromPemFile(tls.CertificatePath!, tls.KeyPath);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
        _context.Certificate?.Dispose();
        _context.Bans.Dispose();
        _context.PasswordChecks.Dispose();
        _context.Users.Changed -= OnUsersChanged;
        _context.StopResolvingPublicHost();
        _ownedTelemetry?.Dispose();
    }
}

/// <summary>
/// An accepted control connection: the socket, the client's end point (a PROXY header's source behind a trusted
/// load balancer), the address the client connected to when the header named it, and whether TLS starts at once.
/// </summary>
internal sealed record ClientConnection(Socket Socket, IPEndPoint Remote, IPEndPoint? Destination, bool ImplicitTls);

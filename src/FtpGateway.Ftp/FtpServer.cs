using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FtpGateway.Ftp;

/// <summary>
/// The FTP listeners (explicit and implicit TLS) and the hosted-service lifecycle: accept control connections,
/// read the PROXY header of a trusted load balancer, ask <see cref="ConnectionAdmission"/> before any greeting,
/// run one <see cref="FtpSession"/> per admitted connection (<see cref="SessionRegistry"/>), and on shutdown
/// drain them.
/// </summary>
public sealed class FtpServer : IHostedLifecycleService, IAsyncDisposable
{
    private readonly FtpServerContext _context;
    private readonly ILogger<FtpServer> _logger;
    private readonly SessionRegistry _sessions;
    private readonly ConnectionAdmission _admission;
    private readonly CancellationTokenSource _stopping = new();
    private readonly FtpTelemetry? _ownedTelemetry;
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly ProxiedConnections _proxied;
    private readonly ITimer _heartbeat;
    private Transfers.Relay.FleetRelay? _relay;
    private readonly Lock _drainLock = new();
    private int _stopped;
    private Task? _drain;

    internal FtpServer(
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
        Events.EventPublisher? events = null,
        State.IFleetState? fleet = null,
        Checks.ScanningOptions? scanning = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(users);
        var securityOptions = security?.Value ?? new SecurityOptions();
        var addresses = securityOptions.Addresses; // parsed (and any error thrown) before anything is created
        _ = options.Value.Network;
        _logger = loggerFactory.CreateLogger<FtpServer>();
        _ownedTelemetry = telemetry is null ? new FtpTelemetry() : null;
        _context = FtpServerContext.Create(
            options.Value, securityOptions, targets ?? new StorageTargets(storage), users, loggerFactory, telemetry ?? _ownedTelemetry!, time ?? TimeProvider.System,
            authHook, audit, events, fleet, scanning);
        _sessions = new SessionRegistry(fleet);
        if (fleet is not null)
        {
            fleet.Received += message =>
            {
                if (message is State.FleetMessage.EndSession end)
                {
                    _sessions.TryEnd(end.SessionId, end.Now, _logger); // the operator API of another gateway asked
                }
            };
        }
        _admission = new ConnectionAdmission(addresses, _context, _sessions, _logger);
        _proxied = new ProxiedConnections(_context, _logger, () => IsDraining);
        var beat = SessionTimeouts.PeriodFor(_context.Options);
        _heartbeat = _context.Time.CreateTimer(_ => _sessions.OnHeartbeat(_logger), null, beat, beat);
        users.Changed += OnUsersChanged;
    }

    /// <summary>Where the server listens (the real port when configured with port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Where implicit FTPS listens, when <see cref="FtpTlsOptions.ImplicitPort"/> is set.</summary>
    public IPEndPoint? ImplicitTlsEndPoint { get; private set; }

    public int ActiveSessions => _sessions.Count;

    /// <summary>What every session shares (for the management API and tests).</summary>
    internal FtpServerContext Context => _context;

    /// <summary>
    /// Every session of the fleet (from its registry while the shared state answers), else this gateway's; and
    /// whether the list is the fleet's.
    /// </summary>
    internal async Task<(IReadOnlyList<State.FleetSession> Sessions, bool Fleet)> ListSessionsAsync(CancellationToken ct)
    {
        if (_context.Fleet is { IsAvailable: true } fleet)
        {
            try
            {
                return (await fleet.SessionsAsync(ct), true);
            }
            catch (State.FleetStateUnavailableException)
            {
                // this gateway's, below
            }
        }

        return ([.. _sessions.All.Select(s => s.Snapshot())], false);
    }

    /// <summary>
    /// Ends a session for the operator (after its running transfer, or at once with <paramref name="now"/>): here,
    /// or through the shared state on the gateway that runs it. Returns that gateway's name; null when no gateway
    /// runs a session with this id.
    /// </summary>
    internal async Task<string?> EndSessionAsync(string id, bool now, CancellationToken ct)
    {
        if (_sessions.TryEnd(id, now, _logger))
        {
            return _context.GatewayName;
        }

        if (_context.Fleet is not { } fleet)
        {
            return null;
        }

        var (sessions, whole) = await ListSessionsAsync(ct);
        if (!whole)
        {
            throw new State.FleetStateUnavailableException("the fleet's session registry cannot be read; the session may run on another gateway");
        }

        if (sessions.FirstOrDefault(s => s.Id == id) is { } elsewhere)
        {
            await fleet.SendAsync(new State.FleetMessage.EndSession(fleet.Gateway, id, now), ct);
            return elsewhere.Gateway;
        }

        return null;
    }

    /// <summary>Relays in progress from this gateway to the others (Ftp:Relay).</summary>
    internal int ActiveRelays => _relay?.ActiveRelays ?? 0;

    /// <summary>The sessions this gateway runs.</summary>
    internal SessionRegistry Sessions => _sessions;

    /// <summary>Bans in force now.</summary>
    public int ActiveBans => _context.Bans.Active;

    /// <summary>True once shutdown has begun: readiness reports not ready, no new sessions or transfers start.</summary>
    public bool IsDraining { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = _context.Options;
        var listener = Listen(o.Port, "Ftp:Port");
        var implicitTls = o.Tls.ImplicitPort is { } implicitPort ? Listen(implicitPort, "Ftp:Tls:ImplicitPort") : null;
        _relay = Transfers.Relay.FleetRelay.Start(_context, _admission.RefusesAddress);

        // The first PASV must carry Ftp:PublicHost's address: a moment (5 s at most) for its first answer, while
        // connections wait in the listen backlog; a resolver slower than that leaves the connection's own address.
        await _context.StartResolvingPublicHost().WaitAsync(TimeSpan.FromSeconds(5), _context.Time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!; // from now on readiness may say ready
        ImplicitTlsEndPoint = (IPEndPoint?)implicitTls?.LocalEndPoint;
        var own = o.Network.OwnPassiveRange?.ToString() ?? "any";
        Log.Listening(_logger, LocalEndPoint, own, o.PublicAddress ?? o.PublicHost ?? "control connection's", _context.Storage.Name);
        if (ImplicitTlsEndPoint is not null)
        {
            Log.ListeningImplicitTls(_logger, ImplicitTlsEndPoint);
        }

        for (var i = 0; i < _listeners.Count; i++)
        {
            _acceptLoops.Add(AcceptLoopAsync(_listeners[i], implicitTls: i == 1, _stopping.Token));
        }
    }

    private Socket Listen(int port, string key)
    {
        var listener = ClientConnection.Listen(_context.Options.Network.ListenAddress, port, key);
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

        try
        {
            await DrainAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            Log.UnexpectedError(_logger, ex, "drain"); // the stop goes on: nothing may be left running
        }

        // Whatever is left is cut off: its transfers are cancelled and commit nothing.
        await _stopping.CancelAsync();
        _sessions.AbortAll(_logger);
        if (_relay is not null)
        {
            await _relay.DisposeAsync();
        }

        await Task.WhenAll(_acceptLoops);
        await _proxied.WhenAllReadAsync();
        await _sessions.WhenAllEndedAsync(TimeSpan.FromSeconds(10), _context.Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Log.Stopped(_logger);
    }

    /// <summary>Refuses new connections and lets running transfers finish within the drain timeout (once).</summary>
    private Task DrainAsync(CancellationToken cancellationToken)
    {
        lock (_drainLock)
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
        _relay?.StopRelayingForOthers();
        Log.Draining(_logger, _sessions.Count, _context.Options.DrainTimeout.TotalSeconds);
        try
        {
            await _sessions.DrainAllAsync().WaitAsync(_context.Options.DrainTimeout, _context.Time, cancellationToken);
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
                _proxied.Accept(socket, peer, implicitTls, connection => _ = AdmitAsync(connection, ct), ct);
            }
            else
            {
                _ = AdmitAsync(new ClientConnection(socket, peer, null, implicitTls), ct);
            }
        }
    }

    /// <summary>Starts a session for the connection, or refuses it before any greeting.</summary>
    private async Task AdmitAsync(ClientConnection connection, CancellationToken ct)
    {
        var address = Addresses.Normalize(connection.Remote.Address);
        var id = _sessions.NextId();
        try
        {
            if (await _admission.TryAdmitAsync(address, id, ct) is { } refusal)
            {
                _admission.Refuse(connection, address, refusal);
                return;
            }
        }
        catch (OperationCanceledException)
        {
            connection.Socket.Dispose(); // stopping
            return;
        }
        catch (Exception ex)
        {
            Log.UnexpectedError(_logger, ex, "admission");
            connection.Socket.Dispose();
            return;
        }

        _sessions.Start(new FtpSession(_context, connection, id));
    }

    private void OnUsersChanged(UserDirectory previous, UserDirectory current) => _sessions.CloseChangedUsers(current, _logger);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        await _heartbeat.DisposeAsync();
        _stopping.Dispose();
        _context.Users.Changed -= OnUsersChanged;
        _context.Dispose();
        // The fleet state belongs to the host (it is disposed with the service provider).
        _ownedTelemetry?.Dispose();
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FtpGateway.Ftp;

/// <summary>
/// The FTP listener: accepts control connections, enforces the session limits, runs one
/// <see cref="FtpSession"/> per connection and cleans up after it.
/// </summary>
public sealed class FtpServer : IHostedLifecycleService, IAsyncDisposable
{
    private readonly FtpServerContext _context;
    private readonly ILogger<FtpServer> _logger;
    private readonly ConcurrentDictionary<string, (FtpSession Session, Task Task)> _sessions = new();
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private long _nextId;
    private int _stopped;
    private Task? _drain;

    public FtpServer(
        IOptions<FtpServerOptions> options,
        IStorageProvider storage,
        UserDirectory users,
        ILoggerFactory loggerFactory,
        FtpTelemetry? telemetry = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        _logger = loggerFactory.CreateLogger<FtpServer>();
        _ownedTelemetry = telemetry is null ? new FtpTelemetry() : null;
        telemetry ??= _ownedTelemetry!;
        var ports = new PassivePortPool(o.ParsePassiveRange());
        telemetry.ObservePassivePorts(() => ports.InUse);
        _context = new FtpServerContext(
            o, new InstrumentedStorageProvider(storage, telemetry), users, ports, LoadCertificate(o.Tls), loggerFactory, time ?? TimeProvider.System, telemetry);
    }

    private readonly FtpTelemetry? _ownedTelemetry;

    /// <summary>Where the server listens (the real port when configured with port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    public int ActiveSessions => _sessions.Count;

    /// <summary>True once shutdown has begun: readiness reports not ready, no new sessions or transfers start.</summary>
    public bool IsDraining { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = _context.Options;
        Socket listener;
        if (string.IsNullOrWhiteSpace(o.ListenAddress))
        {
            listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
            listener.Bind(new IPEndPoint(IPAddress.IPv6Any, o.Port));
        }
        else
        {
            var address = IPAddress.Parse(o.ListenAddress);
            listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(address, o.Port));
        }

        listener.Listen(512);
        _listener = listener;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        Log.Listening(_logger, listener.LocalEndPoint!, o.PassivePortRange ?? "any", o.PublicAddress ?? "control connection's", _context.Storage.Name);
        _acceptLoop = AcceptLoopAsync(listener, _stopping.Token);
        return Task.CompletedTask;
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
        if (_listener is null || Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return; // never started, or already stopped (the host stops, then disposes)
        }

        await DrainAsync(cancellationToken);

        // Whatever is left is cut off: its transfers are cancelled and commit nothing.
        await _stopping.CancelAsync();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }

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
        if (_listener is null)
        {
            return;
        }

        IsDraining = true;
        _listener.Dispose();
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

    private async Task AcceptLoopAsync(Socket listener, CancellationToken ct)
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
            catch (SocketException ex)
            {
                Log.AcceptFailed(_logger, ex);
                continue;
            }

            socket.NoDelay = true;
            var address = Addresses.Normalize(((IPEndPoint)socket.RemoteEndPoint!).Address);
            var refusal = Admit(address);
            if (refusal is not null)
            {
                Log.ConnectionRefused(_logger, address, refusal);
                _ = RefuseAsync(socket, refusal);
                continue;
            }

            var id = Interlocked.Increment(ref _nextId).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
            var session = new FtpSession(_context, socket, id, ct);
            var task = RunSessionAsync(session, address);
            _sessions[id] = (session, task);
        }
    }

    private string? Admit(IPAddress address)
    {
        var o = _context.Options;
        if (_sessions.Count >= o.MaxSessions)
        {
            return "Too many connections; try again later.";
        }

        var count = _perAddress.AddOrUpdate(address, 1, (_, n) => n + 1);
        if (count > o.MaxSessionsPerAddress)
        {
            Release(address);
            return "Too many connections from your address; try again later.";
        }

        return null;
    }

    private void Release(IPAddress address)
    {
        var remaining = _perAddress.AddOrUpdate(address, 0, (_, n) => n - 1);
        if (remaining <= 0)
        {
            _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(address, remaining));
        }
    }

    private static async Task RefuseAsync(Socket socket, string reason)
    {
        using (socket)
        {
            try
            {
                // RFC 959 §4.2: 421 may be sent in reply to the connection itself.
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
            _sessions.TryRemove(session.Id, out _); // first, so a drain never reaches a disposed session
            Release(address);
            await session.DisposeAsync();
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
        _ownedTelemetry?.Dispose();
    }
}

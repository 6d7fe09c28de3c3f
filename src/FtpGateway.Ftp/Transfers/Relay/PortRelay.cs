using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// The passive ports of the other gateways, listened on by this one: a balancer that sends every connection to any
/// gateway (one address, no affinity) may bring a data connection here. It is passed to the gateway that owns its
/// port (ordinal = (port - start) / Ftp:PassivePortsPerReplica, found by <see cref="PeerDirectory"/>), with a signed
/// header naming the port and the client (from the balancer's PROXY header where it sends one), and the bytes are
/// pumped both ways. Only to the owner's relay port, only for ports of the range: never an open proxy. At most
/// Ftp:Relay:MaxConnections at once.
/// </summary>
internal sealed partial class PortRelay(FtpServerContext server, RelaySettings settings, PeerDirectory peers, Func<IPAddress, bool> refused, ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _loops = [];
    private readonly Lock _lock = new();
    private readonly HashSet<Task> _relays = [];
    private int _active;

    /// <summary>Relays in progress (for tests: a refused connection frees its place at once).</summary>
    internal int Active => Volatile.Read(ref _active);

    /// <summary>Listens on every port of the range but this gateway's own; a port in use stops the start, naming it.</summary>
    public void Start(IPAddress address, PortRange own)
    {
        for (var port = settings.Range.Start; port <= settings.Range.End; port++)
        {
            if (!own.Contains(port))
            {
                var listener = ClientConnection.Listen(address, port, "Ftp:PassivePortRange (a port of another gateway, relayed)");
                _listeners.Add(listener);
                _loops.Add(AcceptAsync(listener, port, _stop.Token));
            }
        }
    }

    private async Task AcceptAsync(Socket listener, int port, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (ct.IsCancellationRequested || ex is ObjectDisposedException)
                {
                    return;
                }

                continue;
            }

            if (Interlocked.Increment(ref _active) > settings.MaxConnections)
            {
                Interlocked.Decrement(ref _active);
                Failed(client, port, "too many relayed connections at once");
                continue;
            }

            var relay = RelayAsync(client, port, ct);
            lock (_lock)
            {
                _relays.Add(relay);
            }

            _ = relay.ContinueWith(
                t =>
                {
                    lock (_lock)
                    {
                        _relays.Remove(t);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task RelayAsync(Socket client, int port, CancellationToken ct)
    {
        using var owner = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            client.NoDelay = true;
            var from = await ClientAsync(client, ct);
            var ordinal = settings.OwnerOf(port);
            if (from is null || refused(Addresses.Normalize(from.Address)))
            {
                Failed(client, port, from is null ? "a bad PROXY header" : $"{Addresses.Normalize(from.Address)} is banned or not allowed");
                return;
            }

            if (await peers.FindAsync(ordinal, ct) is not { } address)
            {
                Failed(client, port, $"no gateway with ordinal {ordinal} is known");
                return;
            }

            using (var deadline = new CancellationTokenSource(server.Options.DataConnectionTimeout, server.Time))
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token))
            {
                try
                {
                    await owner.ConnectAsync(new IPEndPoint(address, settings.Port), connect.Token);
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    peers.Forget(ordinal); // a pod that moved: ask the name again next time
                    throw;
                }

                await owner.SendAsync(RelayHeader.Create(settings.Key, port, from, server.Time.GetUtcNow()), SocketFlags.None, connect.Token);

                // The owner's verdict: one byte when it took the connection; a close when it did not.
                var verdict = new byte[1];
                if (await owner.ReceiveAsync(verdict, SocketFlags.None, connect.Token) != 1 || verdict[0] != RelayReceiver.Accepted[0])
                {
                    Failed(client, port, "the owner has no transfer waiting on it");
                    return;
                }
            }

            server.Telemetry.RelayedConnections.Add(1, new KeyValuePair<string, object?>("direction", "out"), new KeyValuePair<string, object?>("outcome", "relayed"));
            var bytes = await SocketPump.RunAsync(client, owner, server.Options.DataConnectionTimeout, server.Time, ct);
            server.Telemetry.RelayedBytes.Add(bytes);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Failed(client, port, ex is OperationCanceledException ? "the owner did not answer in time" : ex.Message);
        }
        finally
        {
            client.Dispose();
            Interlocked.Decrement(ref _active);
        }
    }

    /// <summary>The client's end point: the PROXY header's source behind a trusted balancer, else the socket's peer; null for a bad header.</summary>
    private async Task<IPEndPoint?> ClientAsync(Socket socket, CancellationToken ct)
    {
        var peer = (IPEndPoint)socket.RemoteEndPoint!;
        if (!server.TrustedProxies.Contains(peer.Address))
        {
            return peer;
        }

        using var deadline = new CancellationTokenSource(server.Options.ProxyProtocol.HeaderTimeout, server.Time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            return (await Protocol.ProxyHeader.ReadAsync(socket, timeout.Token)).Source ?? peer;
        }
        catch (Exception ex) when (ex is Protocol.ProxyHeaderException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }

    private void Failed(Socket client, int port, string reason)
    {
        RelayFailed(logger, port, reason);
        server.Telemetry.RelayedConnections.Add(1, new KeyValuePair<string, object?>("direction", "out"), new KeyValuePair<string, object?>("outcome", "failed"));
        client.Dispose();
    }

    /// <summary>Stops taking new connections (a drain); the relays in progress go on.</summary>
    public void Close() => _listeners.ForEach(l => l.Dispose());

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Close();
        await Task.WhenAll(_loops);
        Task[] relays;
        lock (_lock)
        {
            relays = [.. _relays];
        }

        await Task.WhenAll(relays).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    [LoggerMessage(131, LogLevel.Warning, "Could not relay a data connection on port {Port}: {Reason}")]
    private static partial void RelayFailed(ILogger logger, int port, string reason);
}

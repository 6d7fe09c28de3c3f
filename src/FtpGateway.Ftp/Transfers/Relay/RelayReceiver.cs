using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// Takes the data connections peer gateways relay to this one (on Ftp:Relay:Port): the header must carry the
/// fleet's MAC, a time within 30 s and a new nonce, and name one of this gateway's own passive ports on which a
/// transfer waits; the connection then becomes that transfer's data connection, with the client's address as the
/// header carries it. Anything else is closed at once. Header reads at once are bounded by Ftp:Relay:MaxConnections.
/// </summary>
internal sealed partial class RelayReceiver(FtpServerContext server, RelaySettings settings, ILogger logger) : IAsyncDisposable
{
    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The one byte that tells the relaying gateway its connection was taken.</summary>
    internal static readonly byte[] Accepted = [1];

    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, long> _nonces = new(StringComparer.Ordinal);
    private Socket? _listener;
    private Task _loop = Task.CompletedTask;
    private int _reading;

    /// <summary>Listens on Ftp:Relay:Port; a port in use stops the start with a message naming the key.</summary>
    public void Start(IPAddress address)
    {
        _listener = ClientConnection.Listen(address, settings.Port, "Ftp:Relay:Port");
        _loop = AcceptAsync(_listener, _stop.Token);
    }

    private async Task AcceptAsync(Socket listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (ct.IsCancellationRequested || ex is ObjectDisposedException)
                {
                    return;
                }

                continue;
            }

            if (Interlocked.Increment(ref _reading) > settings.MaxConnections)
            {
                Interlocked.Decrement(ref _reading);
                Refuse(socket, "too many relayed connections at once");
                continue;
            }

            _ = TakeAsync(socket, ct);
        }
    }

    private async Task TakeAsync(Socket socket, CancellationToken ct)
    {
        try
        {
            using var deadline = new CancellationTokenSource(HeaderTimeout, server.Time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            var (port, client, nonce) = await RelayHeader.ReadAsync(socket, settings.Key, server.Time.GetUtcNow(), timeout.Token);
            if (!IsNew(nonce))
            {
                throw new RelayRefusedException("a header seen before (a replay)");
            }

            if (server.Options.Network.OwnPassiveRange?.Contains(port) != true || !server.PassivePorts.IsWaiting(port))
            {
                throw new RelayRefusedException($"no transfer of this gateway waits on port {port}");
            }

            // The verdict, before any data: the relaying gateway keeps the client only on this byte (a refusal is
            // the connection closing), so a client nobody expects never holds a relay.
            socket.NoDelay = true;
            await socket.SendAsync(Accepted, SocketFlags.None, timeout.Token);
            if (!server.PassivePorts.TryDeliver(port, socket, client.Address))
            {
                throw new RelayRefusedException($"the transfer on port {port} stopped waiting");
            }

            Count("taken");
        }
        catch (Exception ex) when (ex is RelayRefusedException or SocketException or OperationCanceledException)
        {
            Refuse(socket, ex is OperationCanceledException ? "no header in time" : ex.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _reading);
        }
    }

    /// <summary>A nonce not seen within twice the allowed clock skew (older ones cannot pass the time check anyway).</summary>
    private bool IsNew(byte[] nonce)
    {
        var now = server.Time.GetTimestamp();
        if (_nonces.Count > 10_000)
        {
            foreach (var (key, seen) in _nonces)
            {
                if (server.Time.GetElapsedTime(seen, now) > RelayHeader.MaxSkew * 2)
                {
                    _nonces.TryRemove(key, out _);
                }
            }
        }

        return _nonces.TryAdd(Convert.ToBase64String(nonce), now);
    }

    private void Refuse(Socket socket, string reason)
    {
        var from = socket.RemoteEndPoint is IPEndPoint peer ? Addresses.Normalize(peer.Address).ToString() : "?";
        RelayRefused(logger, from, reason);
        Count("refused");
        socket.Dispose();
    }

    private void Count(string outcome) => server.Telemetry.RelayedConnections.Add(
        1, new KeyValuePair<string, object?>("direction", "in"), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Stops taking relayed connections (the ones taken belong to their transfers).</summary>
    public void Close() => _listener?.Dispose();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Close();
        await _loop;
        _stop.Dispose();
    }

    [LoggerMessage(130, LogLevel.Warning, "Closed a relayed data connection from {Peer}: {Reason}")]
    private static partial void RelayRefused(ILogger logger, string peer, string reason);
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace FtpGateway.TestSupport;

/// <summary>
/// A loopback TCP proxy to a backend that a test can cut: every connection is reset and no new one is
/// accepted, as when a storage server dies mid-transfer.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly int _targetPort;
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _bytesUp;

    /// <param name="targetPort">the backend's port on loopback.</param>
    /// <param name="listenPort">
    /// the proxy's own port (0: a free one from <see cref="FreePorts"/>, outside the ephemeral range: clients keep
    /// retrying a cut proxy's port, and must not reach a gateway's passive listener there); a cut proxy can be
    /// replaced by a new one on the same port.
    /// </param>
    public TcpProxy(int targetPort, int listenPort = 0)
    {
        _targetPort = targetPort;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, listenPort == 0 ? FreePorts.One() : listenPort));
        _listener.Listen(64);
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    /// <summary>Bytes sent towards the backend so far.</summary>
    public long BytesUp => Interlocked.Read(ref _bytesUp);

    public void Cut()
    {
        _stop.Cancel();
        _listener.Dispose();
        foreach (var socket in _sockets.Keys)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Dispose();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already closed by its pump.
            }
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _sockets[client] = 0;
            _sockets[backend] = 0;
            try
            {
                await backend.ConnectAsync(IPAddress.Loopback, _targetPort);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The backend is down, or Cut() disposed this socket while it was connecting.
                client.Dispose();
                continue;
            }

            _ = PumpAsync(client, backend, up: true);
            _ = PumpAsync(backend, client, up: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool up)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
                if (up)
                {
                    Interlocked.Add(ref _bytesUp, n);
                }
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            Cut();
        }

        await _accepting;
        _stop.Dispose();
    }
}

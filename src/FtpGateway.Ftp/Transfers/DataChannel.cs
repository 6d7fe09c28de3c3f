using System.Net;
using System.Net.Sockets;

namespace FtpGateway.Ftp.Transfers;

/// <summary>A data connection that has been negotiated (PASV/EPSV or PORT/EPRT) but not yet opened.</summary>
internal abstract class DataChannel : IDisposable
{
    /// <summary>Opens the connection, within <paramref name="timeout"/>.</summary>
    public abstract Task<Socket> OpenAsync(TimeSpan timeout, CancellationToken cancellationToken);

    public abstract void Dispose();
}

/// <summary>
/// Passive mode: we listen, the client connects. Connections from any address but the control connection's
/// are refused (they would let a third party steal or inject the file). A connection from a trusted proxy must
/// start with a PROXY protocol header, and the header's source is the address checked.
/// </summary>
internal sealed class PassiveDataChannel(Socket listener, FtpServerContext server, IPAddress? requiredPeer) : DataChannel
{
    private int _disposed;

    public int Port => ((IPEndPoint)listener.LocalEndPoint!).Port;

    public int RejectedPeers { get; private set; }

    public override async Task<Socket> OpenAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, server.Time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync(cts.Token);
                if (await PeerAsync(socket, cts.Token) is { } peer && (requiredPeer is null || peer.Equals(requiredPeer)))
                {
                    socket.NoDelay = true;
                    return socket;
                }

                RejectedPeers++;
                socket.Dispose();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("No data connection arrived in time");
        }
        finally
        {
            Dispose(); // one connection per PASV
        }
    }

    /// <summary>The client's address: the socket's peer, or the PROXY header's source behind a trusted proxy; null when the header is bad.</summary>
    private async Task<IPAddress?> PeerAsync(Socket socket, CancellationToken ct)
    {
        var peer = Addresses.Normalize(((IPEndPoint)socket.RemoteEndPoint!).Address);
        if (!server.TrustedProxies.Contains(peer))
        {
            return peer;
        }

        // At most Ftp:ProxyProtocol:HeaderTimeout per connection, so one without a header cannot hold the port.
        using var deadline = new CancellationTokenSource(server.Options.ProxyProtocol.HeaderTimeout, server.Time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            var header = await Protocol.ProxyHeader.ReadAsync(socket, timeout.Token);
            return header.Source is { } source ? Addresses.Normalize(source.Address) : peer;
        }
        catch (Exception ex) when (ex is Protocol.ProxyHeaderException or SocketException
            || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            var port = Port;
            listener.Dispose();
            server.PassivePorts.Release(port);
        }
    }
}

/// <summary>Active mode: we connect to the address the client named (already checked against bounce attacks).</summary>
internal sealed class ActiveDataChannel(IPEndPoint target, TimeProvider time) : DataChannel
{
    public override async Task<Socket> OpenAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(target, cts.Token);
            return socket;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException("The client's data port did not answer in time");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override void Dispose()
    {
    }
}

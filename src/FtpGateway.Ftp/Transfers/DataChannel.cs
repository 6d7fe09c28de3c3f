using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace FtpGateway.Ftp.Transfers;

/// <summary>A data connection that has been negotiated (PASV/EPSV or PORT/EPRT) but not yet opened.</summary>
internal abstract class DataChannel : IDisposable
{
    /// <summary>Opens the connection, within <paramref name="timeout"/>.</summary>
    public abstract Task<Socket> OpenAsync(TimeSpan timeout, CancellationToken cancellationToken);

    public abstract void Dispose();
}

/// <summary>
/// Passive mode: we listen, the client connects — straight to this gateway, or through a peer gateway that relays
/// the connection (<see cref="Relay.RelayReceiver"/>) with the client's address. Connections from any address but
/// the control connection's are refused (they would let a third party steal or inject the file). A connection
/// from a trusted proxy must start with a PROXY protocol header, and the header's source is the address checked.
/// </summary>
internal sealed class PassiveDataChannel : DataChannel
{
    private readonly Socket _listener;
    private readonly FtpServerContext _server;
    private readonly IPAddress? _requiredPeer;
    private readonly Channel<(Socket Socket, IPAddress Client)> _relayed = Channel.CreateBounded<(Socket, IPAddress)>(4);
    private int _disposed;

    public PassiveDataChannel(Socket listener, FtpServerContext server, IPAddress? requiredPeer)
    {
        (_listener, _server, _requiredPeer) = (listener, server, requiredPeer);
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        server.PassivePorts.Waiting(Port, this);
    }

    public int Port { get; }

    public int RejectedPeers { get; private set; }

    /// <summary>A connection a peer gateway relayed for this port, with the client's address; false once this channel has opened or closed.</summary>
    public bool TryTakeRelayed(Socket socket, IPAddress client) => _relayed.Writer.TryWrite((socket, Addresses.Normalize(client)));

    public override async Task<Socket> OpenAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, _server.Time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        Task<Socket>? accept = null;
        Task<bool>? relayed = null;
        try
        {
            while (true)
            {
                accept ??= _listener.AcceptAsync(cts.Token).AsTask();

                // Not cancelled but closed (Dispose) when the wait ends: false then, never an exception. A cancelled
                // wait would throw one for every data connection (on the thread pool, even when nobody awaits it).
                relayed ??= _relayed.Reader.WaitToReadAsync(CancellationToken.None).AsTask();
                Socket socket;
                IPAddress? peer;
                if (await Task.WhenAny(accept, relayed) == accept)
                {
                    socket = await accept;
                    accept = null;
                    try
                    {
                        peer = await PeerAsync(socket, cts.Token);
                    }
                    catch
                    {
                        socket.Dispose(); // the wait ended while its PROXY header was read
                        throw;
                    }
                }
                else if (_relayed.Reader.TryRead(out var handed))
                {
                    (socket, peer) = handed;
                    relayed = null;
                }
                else
                {
                    // Closed: this channel was disposed meanwhile (its listener with it), as an abort would end an accept.
                    throw new SocketException((int)SocketError.OperationAborted);
                }

                if (peer is not null && (_requiredPeer is null || peer.Equals(_requiredPeer)))
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
            await cts.CancelAsync();
            Dispose(); // one connection per PASV; it closes what was relayed meanwhile, and ends the wait for it

            // A connection accepted as the wait ended is closed.
            _ = accept?.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    /// <summary>The client's address: the socket's peer, or the PROXY header's source behind a trusted proxy; null when the header is bad.</summary>
    private async Task<IPAddress?> PeerAsync(Socket socket, CancellationToken ct)
    {
        var peer = Addresses.Normalize(((IPEndPoint)socket.RemoteEndPoint!).Address);
        if (!_server.TrustedProxies.Contains(peer))
        {
            return peer;
        }

        // At most Ftp:ProxyProtocol:HeaderTimeout per connection, so one without a header cannot hold the port.
        using var deadline = new CancellationTokenSource(_server.Options.ProxyProtocol.HeaderTimeout, _server.Time);
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
            _listener.Dispose();
            _server.PassivePorts.Release(Port, this);
            _relayed.Writer.TryComplete();
            while (_relayed.Reader.TryRead(out var left))
            {
                left.Socket.Dispose();
            }
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

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Protocol;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Sessions;

/// <summary>
/// Connections from trusted load balancers (Ftp:ProxyProtocol:TrustedProxies): each one's PROXY header is read
/// beside the accept loop, at most Ftp:MaxSessions at once, within Ftp:ProxyProtocol:HeaderTimeout; the
/// header names the client, or the connection closes.
/// </summary>
internal sealed class ProxiedConnections(FtpServerContext server, ILogger logger, Func<bool> draining)
{
    private readonly ConcurrentDictionary<Task, bool> _reads = new();

    /// <summary>Reads the header in the background, then hands the client's connection to <paramref name="admit"/>.</summary>
    public void Accept(Socket socket, IPEndPoint proxy, bool implicitTls, Action<ClientConnection> admit, CancellationToken ct)
    {
        if (_reads.Count >= server.Options.MaxSessions)
        {
            socket.Dispose();
            return;
        }

        var read = ReadAsync(socket, proxy, implicitTls, admit, ct);
        _reads[read] = true;
        _ = read.ContinueWith(t => _reads.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits for the headers being read (on shutdown, after the cancellation).</summary>
    public Task WhenAllReadAsync() => Task.WhenAll(_reads.Keys);

    private async Task ReadAsync(Socket socket, IPEndPoint proxy, bool implicitTls, Action<ClientConnection> admit, CancellationToken ct)
    {
        ProxyHeader header;
        try
        {
            using var deadline = new CancellationTokenSource(server.Options.ProxyProtocol.HeaderTimeout, server.Time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            header = await ProxyHeader.ReadAsync(socket, timeout.Token);
        }
        catch (Exception ex) when (ex is ProxyHeaderException or SocketException or OperationCanceledException)
        {
            Log.ProxyHeaderRefused(logger, Addresses.Normalize(proxy.Address), ex is OperationCanceledException ? "no header in time" : ex.Message);
            server.Telemetry.RefusedConnections.Add(1, new KeyValuePair<string, object?>("ftp.refusal", "proxy_header"));
            socket.Dispose();
            return;
        }

        if (draining() || ct.IsCancellationRequested)
        {
            socket.Dispose();
            return;
        }

        admit(new ClientConnection(socket, header.Source ?? proxy, header.Destination, implicitTls));
    }
}

using System.Net;
using System.Net.Sockets;

namespace FtpGateway.Ftp;

/// <summary>
/// An accepted control connection: the socket, the client's end point (a PROXY header's source behind a trusted
/// load balancer), the address the client connected to when the header named it, and whether TLS starts at once.
/// </summary>
internal sealed record ClientConnection(Socket Socket, IPEndPoint Remote, IPEndPoint? Destination, bool ImplicitTls)
{
    /// <summary>A listening socket on <paramref name="port"/>; a port in use stops the start with a message naming <paramref name="key"/>.</summary>
    public static Socket Listen(IPAddress address, int port, string key)
    {
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

        return listener;
    }
}


using System.Net;
using System.Net.Sockets;

namespace FtpGateway.TestSupport;

/// <summary>Real TCP connections on loopback, for code that works on sockets.</summary>
public static class LoopbackSockets
{
    /// <summary>The two ends of a new connection: the one that connected and the one a listener accepted.</summary>
    public static async Task<(Socket Connecting, Socket Accepted)> PairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await connecting.ConnectAsync(listener.LocalEndPoint!);
        return (connecting, await listener.AcceptAsync());
    }
}

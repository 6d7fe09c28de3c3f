using System.Net;
using System.Net.Sockets;

namespace FtpGateway.TestSupport;

/// <summary>Real TCP connections on loopback, for code that works on sockets.</summary>
public static class LoopbackSockets
{
    /// <summary>
    /// The two ends of a new connection: the one that connected and the one a listener accepted.
    /// <paramref name="receiveBufferSize"/>, when given, is the connecting end's receive buffer, set before it
    /// connects (the window it offers is fixed then; set later, it slows the connection to a crawl).
    /// </summary>
    public static async Task<(Socket Connecting, Socket Accepted)> PairAsync(int? receiveBufferSize = null)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBufferSize is { } size)
        {
            connecting.ReceiveBufferSize = size;
        }

        await connecting.ConnectAsync(listener.LocalEndPoint!);
        return (connecting, await listener.AcceptAsync());
    }
}

using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FtpGateway.Ftp.Sessions;

/// <summary>What the kernel knows about a connection's peer, asked without taking anything from the stream.</summary>
internal static partial class PeerSocket
{
    private const int MsgPeek = 0x2;
    private const int MsgDontWait = 0x40; // the same on every Linux architecture
    private const int EAgain = 11;
    private const int EIntr = 4;

    /// <summary>
    /// True when the peer closed (its FIN is at the head of the receive queue) or reset the connection: a
    /// <c>recv(MSG_PEEK | MSG_DONTWAIT)</c> of one byte returns 0 only then, a positive count while bytes wait,
    /// and EAGAIN while the connection is open and idle.
    /// </summary>
    public static bool HasClosed(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            // Elsewhere the flags differ: the two-step look (which a concurrent read can fool, see above) is all there is.
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }

        Span<byte> one = stackalloc byte[1];
        while (true)
        {
            var result = Recv(socket.SafeHandle, one, 1, MsgPeek | MsgDontWait);
            if (result >= 0)
            {
                return result == 0;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr)
            {
                continue;
            }

            return errno != EAgain; // ECONNRESET, ENOTCONN, EBADF: gone
        }
    }

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(SafeSocketHandle socket, Span<byte> buffer, nint length, int flags);
}

using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FtpGateway.Ftp.Sessions;

/// <summary>
/// The control connection's system calls that .NET does not offer: what the kernel knows about the peer, asked
/// without taking anything from the stream, and a send that never waits.
/// </summary>
internal static partial class PeerSocket
{
    private const int MsgPeek = 0x2;
    private const int MsgDontWait = 0x40; // the same on every Linux architecture
    private const int MsgNoSignal = 0x4000;
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

    /// <summary>
    /// Sends what the socket's buffer takes now (<c>send(MSG_DONTWAIT)</c>) and returns how many bytes that was: 0
    /// when it takes nothing, when the send failed (the caller's asynchronous send then fails too, with the error
    /// the connection is left in: a reset read here shows there as a broken pipe) and off Linux. The caller sends
    /// the rest asynchronously, and must not do this while an asynchronous send of the same socket is pending.
    /// </summary>
    public static int SendWithoutWaiting(Socket socket, ReadOnlySpan<byte> bytes)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        while (true)
        {
            var result = Send(socket.SafeHandle, bytes, bytes.Length, MsgDontWait | MsgNoSignal);
            if (result >= 0)
            {
                return (int)result;
            }

            if (Marshal.GetLastPInvokeError() != EIntr)
            {
                return 0;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint Send(SafeSocketHandle socket, ReadOnlySpan<byte> buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(SafeSocketHandle socket, Span<byte> buffer, nint length, int flags);
}

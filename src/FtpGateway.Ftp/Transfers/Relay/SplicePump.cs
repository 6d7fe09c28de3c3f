using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// The rest of one direction of a relayed connection moved inside the kernel (Linux): splice(2) from the socket
/// into a pipe and from the pipe into the other socket, so the bytes are never copied into the gateway (the copy
/// loop cost the relaying gateway 0.79 s of CPU per GiB). It runs on a thread of its own with both sockets
/// blocking, since .NET can await a socket's data but not its room; a stop aborts both sockets (a reset, never an
/// end an owner could take for a finished upload), which wakes a blocked splice.
/// </summary>
internal static partial class SplicePump
{
    private const int Piece = SocketPump.Piece; // per call, and the pipe's size
    private const int SpliceMove = 1;
    private const int FSetPipeSize = 1031;
    private const int FGetFl = 3;
    private const int FSetFl = 4;
    private const int ONonBlock = 0x800; // x86-64 and arm64 alike
    private const int OCloExec = 0x80000;
    private const int EIntr = 4;
    private const int EInval = 22;
    private const int ENoSys = 38;
    private const int EOpNotSupp = 95;

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>
    /// Moves the rest from <paramref name="from"/> to <paramref name="to"/>, passing the end on as a half-close;
    /// <paramref name="moved"/> hears each piece. False, with nothing moved and the sockets as they were, where
    /// the kernel refuses splice for these sockets (a sandbox): the caller copies instead.
    /// </summary>
    /// <exception cref="IOException">a socket failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> stopped the pump (both sockets are aborted).</exception>
    public static Task<bool> TryRunAsync(Socket from, Socket to, Action<long> moved, CancellationToken ct) =>
        Task.Factory.StartNew(() => Run(from, to, moved, ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static bool Run(Socket from, Socket to, Action<long> moved, CancellationToken ct)
    {
        Span<int> pipe = stackalloc int[2];
        if (Pipe2(pipe, OCloExec) < 0)
        {
            return false;
        }

        using var read = new SafePipeEnd(pipe[0]);
        using var write = new SafePipeEnd(pipe[1]);
        _ = Fcntl(write, FSetPipeSize, Piece); // where the user's pipe allowance is spent, the default size works too
        var flags = (From: Blocking(from), To: Blocking(to));
        using var stop = ct.Register(() =>
        {
            SocketPump.Abort(from);
            SocketPump.Abort(to);
        });
        var first = true;
        while (true)
        {
            var n = Splice(from.SafeHandle, 0, write, 0, Piece, SpliceMove);
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }

                if (first && errno is EInval or ENoSys or EOpNotSupp)
                {
                    _ = Fcntl(from.SafeHandle, FSetFl, flags.From);
                    _ = Fcntl(to.SafeHandle, FSetFl, flags.To);
                    return false;
                }

                throw Failure(errno);
            }

            first = false;
            if (n == 0)
            {
                break; // the end of this direction (or a stop)
            }

            while (n > 0)
            {
                var m = Splice(read, 0, to.SafeHandle, 0, (nint)n, SpliceMove);
                if (m <= 0)
                {
                    var errno = m < 0 ? Marshal.GetLastPInvokeError() : 0;
                    if (errno == EIntr)
                    {
                        continue;
                    }

                    throw Failure(errno);
                }

                n -= m;
                moved(m);
            }
        }

        ct.ThrowIfCancellationRequested(); // a stop reads as an end: it is not one
        to.Shutdown(SocketShutdown.Send);
        return true;
    }

    /// <summary>Makes the socket blocking; its flags before.</summary>
    private static int Blocking(Socket socket)
    {
        var flags = Fcntl(socket.SafeHandle, FGetFl, 0);
        if (flags < 0 || Fcntl(socket.SafeHandle, FSetFl, flags & ~ONonBlock) < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError());
        }

        return flags;
    }

    /// <summary>
    /// Resets the connection at once (connect(2) to AF_UNSPEC: the kernel sends a reset and wakes whoever waits on
    /// the socket). Closing alone is not enough while another thread is inside splice: .NET then shuts the socket
    /// down first to wake it, and that sends an end before the reset.
    /// </summary>
    public static void Reset(Socket socket)
    {
        if (IsSupported)
        {
            Span<byte> unspecified = stackalloc byte[16];
            unspecified.Clear();
            _ = Connect(socket.SafeHandle, unspecified, unspecified.Length);
        }
    }

    private static IOException Failure(int errno) =>
        new($"splice: {(errno == 0 ? "the connection was closed" : Marshal.GetPInvokeErrorMessage(errno))}", errno);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(Span<int> fds, int flags);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint Splice(SafeHandle input, nint inputOffset, SafeHandle output, nint outputOffset, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static partial int Connect(SafeHandle fd, ReadOnlySpan<byte> address, int length);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeHandle fd, int command, int argument);

    /// <summary>One end of the pipe, closed once.</summary>
    private sealed partial class SafePipeEnd : SafeHandle
    {
        public SafePipeEnd(int fd)
            : base(-1, ownsHandle: true) => SetHandle(fd);

        public override bool IsInvalid => handle < 0;

        protected override bool ReleaseHandle() => Close((int)handle) == 0;

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        private static partial int Close(int fd);
    }
}

using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// One direction of a relayed connection moved inside the kernel (Linux): splice(2) from the socket into a pipe
/// and from the pipe into the other socket, so the bytes are never copied into the gateway (a read-and-send
/// loop cost the relaying gateway 0.79 s of CPU per GiB). It runs on a thread of its own with both sockets
/// blocking, since .NET can await a socket's data but not its room; stopping shuts both sockets down, which
/// wakes a blocked splice.
/// </summary>
internal static partial class SplicePump
{
    private const int PipeSize = 1024 * 1024;
    private const int SpliceMove = 1;
    private const int SpliceMore = 4;
    private const int FSetPipeSize = 1031;
    private const int FGetFl = 3;
    private const int FSetFl = 4;
    private const int ONonBlock = 0x800; // x86-64 and arm64 alike
    private const int OCloExec = 0x80000;
    private const int EIntr = 4;

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>Moves bytes from <paramref name="from"/> to <paramref name="to"/> until the end, passed on as a half-close; <paramref name="moved"/> hears each piece.</summary>
    /// <exception cref="SocketException">a socket failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> stopped the pump.</exception>
    public static Task OneWayAsync(Socket from, Socket to, Action<long> moved, CancellationToken ct) =>
        Task.Factory.StartNew(() => OneWay(from, to, moved, ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static void OneWay(Socket from, Socket to, Action<long> moved, CancellationToken ct)
    {
        Span<int> pipe = stackalloc int[2];
        Check(Pipe2(pipe, OCloExec));
        using var read = new SafePipeEnd(pipe[0]);
        using var write = new SafePipeEnd(pipe[1]);
        _ = Fcntl(write, FSetPipeSize, PipeSize); // a larger pipe, fewer calls; the default 64 KiB works too
        Blocking(from);
        Blocking(to);
        using var stop = ct.Register(() => ShutDown(from, to));
        while (true)
        {
            var n = Splice(from.SafeHandle, 0, write, 0, PipeSize, SpliceMove | SpliceMore);
            if (n == 0)
            {
                break; // the end of this direction
            }

            if (n < 0 && Interrupted())
            {
                continue;
            }

            Check(n);
            var piece = n;
            while (n > 0)
            {
                var m = Splice(read, 0, to.SafeHandle, 0, (nint)n, SpliceMove); // no SPLICE_F_MORE: it would hold back a last short piece
                if (m < 0 && Interrupted())
                {
                    continue;
                }

                Check(m == 0 ? -1 : m);
                n -= m;
            }

            moved(piece);
        }

        ct.ThrowIfCancellationRequested(); // a stop reads as an end: it is not one
        to.Shutdown(SocketShutdown.Send);
    }

    private static void Blocking(Socket socket)
    {
        var flags = Fcntl(socket.SafeHandle, FGetFl, 0);
        Check(flags);
        Check(Fcntl(socket.SafeHandle, FSetFl, flags & ~ONonBlock));
    }

    private static void ShutDown(Socket a, Socket b)
    {
        foreach (var socket in new[] { a, b })
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already gone.
            }
        }
    }

    private static bool Interrupted() => Marshal.GetLastPInvokeError() == EIntr;

    private static void Check(long result)
    {
        if (result < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(Span<int> fds, int flags);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint Splice(SafeHandle input, nint inputOffset, SafeHandle output, nint outputOffset, nint length, int flags);

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

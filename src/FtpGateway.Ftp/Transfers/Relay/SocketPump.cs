using System.Buffers;
using System.Net.Sockets;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// Moves bytes both ways between two connected sockets until both sides have finished, passing on half-closes; a
/// pump where nothing moves either way for <c>idle</c> (Ftp:DataConnectionTimeout, the longest pause of a
/// transfer) is cut, so a silent client never holds a relay. A direction's first MiB passes through a buffer
/// (most relayed connections carry a small file, which a thread and a pipe would only slow); the rest stays in
/// the kernel on Linux (<see cref="SplicePump"/>). Whatever ends a pump other than both ends aborts both
/// sockets: an owner must never take a cut upload for a finished one.
/// </summary>
internal static class SocketPump
{
    /// <summary>The most one read or splice moves: the idle time sees progress at least this often.</summary>
    internal const int Piece = 128 * 1024;
    private const long SpliceAfter = 1024 * 1024;

    /// <summary>Pumps until both directions end, nothing moved for <paramref name="idle"/>, or <paramref name="ct"/>; returns the bytes moved.</summary>
    public static async Task<long> RunAsync(Socket a, Socket b, TimeSpan idle, TimeProvider time, CancellationToken ct)
    {
        using var quiet = new CancellationTokenSource(idle, time);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, quiet.Token);
        var moved = await Task.WhenAll(OneWayAsync(a, b, () => quiet.CancelAfter(idle), both), OneWayAsync(b, a, () => quiet.CancelAfter(idle), both));
        return moved[0] + moved[1];
    }

    /// <summary>A reset: the peer learns the connection failed, not that it ended.</summary>
    internal static void Abort(Socket socket)
    {
        try
        {
            SplicePump.Reset(socket);
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>One direction; its failure stops the other first (<paramref name="pump"/>), so that one never takes the reset it reads for an end.</summary>
    private static async Task<long> OneWayAsync(Socket from, Socket to, Action moving, CancellationTokenSource pump)
    {
        var ct = pump.Token;
        long total = 0;
        void Moved(long n)
        {
            total += n;
            moving();
        }

        try
        {
            var ended = await CopyAsync(from, to, Moved, SplicePump.IsSupported ? SpliceAfter : long.MaxValue, ct);
            if (!ended && !await SplicePump.TryRunAsync(from, to, Moved, ct))
            {
                await CopyAsync(from, to, Moved, long.MaxValue, ct); // the kernel refused splice here
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // One side reset or went away, or the pump was stopped: the other learns it as a reset too.
            await pump.CancelAsync();
            Abort(to);
            Abort(from);
        }

        return total;
    }

    /// <summary>Copies through a buffer until the end (passed on as a half-close: true) or <paramref name="limit"/> bytes (false).</summary>
    private static async Task<bool> CopyAsync(Socket from, Socket to, Action<long> moved, long limit, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Piece);
        try
        {
            for (long copied = 0; copied < limit;)
            {
                var read = await from.ReceiveAsync(buffer.AsMemory(0, Piece), SocketFlags.None, ct);
                if (read == 0)
                {
                    ct.ThrowIfCancellationRequested(); // a socket the stop reset reads as ended: it is not
                    to.Shutdown(SocketShutdown.Send); // the end of this direction, passed on
                    return true;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, ct);
                copied += read;
                moved(read);
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

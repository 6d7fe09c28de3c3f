using System.Buffers;
using System.Net.Sockets;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// Moves bytes both ways between two connected sockets until both sides have finished, passing on half-closes; a
/// pump where nothing moves either way for <c>idle</c> (Ftp:DataConnectionTimeout, the longest pause of a
/// transfer) is cut, so a silent client never holds a relay. On Linux the bytes stay in the kernel
/// (<see cref="SplicePump"/>); elsewhere they pass through a buffer.
/// </summary>
internal static class SocketPump
{
    private const int BufferSize = 128 * 1024;

    /// <summary>Pumps until both directions end, nothing moved for <paramref name="idle"/>, or <paramref name="ct"/>; returns the bytes moved.</summary>
    public static async Task<long> RunAsync(Socket a, Socket b, TimeSpan idle, TimeProvider time, CancellationToken ct)
    {
        using var quiet = new CancellationTokenSource(idle, time);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, quiet.Token);
        var moved = await Task.WhenAll(OneWayAsync(a, b, () => quiet.CancelAfter(idle), both.Token), OneWayAsync(b, a, () => quiet.CancelAfter(idle), both.Token));
        return moved[0] + moved[1];
    }

    private static async Task<long> OneWayAsync(Socket from, Socket to, Action moving, CancellationToken ct)
    {
        if (!SplicePump.IsSupported)
        {
            return await CopyAsync(from, to, moving, ct);
        }

        long total = 0;
        try
        {
            await SplicePump.OneWayAsync(from, to, n => { total += n; moving(); }, ct);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side reset or went away, or the pump was stopped: the other learns it as a reset too.
            Abort(to);
            Abort(from);
        }

        return total;
    }

    /// <summary>One direction through the gateway's memory, where splice(2) is not there.</summary>
    private static async Task<long> CopyAsync(Socket from, Socket to, Action moving, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None, ct)) > 0)
            {
                moving();
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, ct);
                total += read;
            }

            to.Shutdown(SocketShutdown.Send); // the end of this direction, passed on
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side reset or went away: the other learns it as a reset too.
            Abort(to);
            Abort(from);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return total;
    }

    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }
}

using System.Buffers;
using System.Net.Sockets;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>Moves bytes both ways between two connected sockets until both sides have finished, passing on half-closes.</summary>
internal static class SocketPump
{
    private const int BufferSize = 128 * 1024;

    /// <summary>Pumps until both directions end (or <paramref name="ct"/>); returns the bytes moved.</summary>
    public static async Task<long> RunAsync(Socket a, Socket b, CancellationToken ct)
    {
        var moved = await Task.WhenAll(OneWayAsync(a, b, ct), OneWayAsync(b, a, ct));
        return moved[0] + moved[1];
    }

    private static async Task<long> OneWayAsync(Socket from, Socket to, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None, ct)) > 0)
            {
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

using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Transfers.Relay;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Transfers;

/// <summary>The relay's pump (splice(2) on Linux) between real loopback connections: client ⇄ pump ⇄ owner.</summary>
public sealed class SocketPumpTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task BytesGoBothWays_HalfClosesArePassedOn_AndEveryByteIsCounted()
    {
        var (client, relayClientSide) = await PairAsync();
        var (relayOwnerSide, owner) = await PairAsync();
        using (client)
        using (owner)
        {
            var pump = SocketPump.RunAsync(relayClientSide, relayOwnerSide, Idle, TimeProvider.System, CancellationToken.None);
            var upload = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 13)).ToArray();
            var atOwner = ReceiveAllAsync(owner);
            await client.SendAsync(upload);
            client.Shutdown(SocketShutdown.Send); // the end of the upload reaches the owner as an end
            Assert.Equal(upload, await atOwner);

            await owner.SendAsync("226 from the owner"u8.ToArray());
            owner.Shutdown(SocketShutdown.Send);
            Assert.Equal("226 from the owner"u8.ToArray(), await ReceiveAllAsync(client));
            Assert.Equal(upload.Length + 18, await pump);
        }
    }

    [Fact]
    public async Task APumpWhereNothingMovesForTheIdleTime_IsCut_AndBothSidesLearnIt()
    {
        var time = new FakeTimeProvider();
        var (client, relayClientSide) = await PairAsync();
        var (relayOwnerSide, owner) = await PairAsync();
        using (client)
        using (owner)
        {
            var pump = SocketPump.RunAsync(relayClientSide, relayOwnerSide, Idle, time, CancellationToken.None);
            await client.SendAsync(new byte[100]);
            Assert.Equal(100, (await ReceiveAllAsync(owner, 100)).Length);

            time.Advance(Idle);

            await pump.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, await ReceiveOrResetAsync(client));
            Assert.Equal(0, await ReceiveOrResetAsync(owner));
        }
    }

    [Fact]
    public async Task AResetOnOneSide_ResetsTheOther()
    {
        var (client, relayClientSide) = await PairAsync();
        var (relayOwnerSide, owner) = await PairAsync();
        using (owner)
        {
            var pump = SocketPump.RunAsync(relayClientSide, relayOwnerSide, Idle, TimeProvider.System, CancellationToken.None);
            client.LingerState = new LingerOption(true, 0);
            client.Close(); // a reset

            await pump.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, await ReceiveOrResetAsync(owner));
        }
    }

    private static async Task<(Socket Connecting, Socket Accepted)> PairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await connecting.ConnectAsync(listener.LocalEndPoint!);
        return (connecting, await listener.AcceptAsync());
    }

    private static async Task<byte[]> ReceiveAllAsync(Socket socket, int until = int.MaxValue)
    {
        using var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while (all.Length < until && (n = await socket.ReceiveAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        return all.ToArray();
    }

    /// <summary>What a connection the pump ended gives: 0 (an end) or a reset, also 0 here; within 10 s.</summary>
    private static async Task<int> ReceiveOrResetAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await socket.ReceiveAsync(new byte[16], SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            return 0;
        }
    }
}

using System.Net.Sockets;
using FtpGateway.Ftp.Transfers.Relay;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Transfers;

/// <summary>The relay's pump (splice(2) on Linux) between real loopback connections: client ⇄ pump ⇄ owner.</summary>
public sealed class SocketPumpTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task BytesGoBothWays_HalfClosesArePassedOn_AndEveryByteIsCounted()
    {
        var (client, relayClientSide) = await LoopbackSockets.PairAsync();
        var (relayOwnerSide, owner) = await LoopbackSockets.PairAsync();
        using (client)
        using (owner)
        {
            var pump = SocketPump.RunAsync(relayClientSide, relayOwnerSide, Idle, TimeProvider.System, CancellationToken.None);
            var upload = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 13)).ToArray();
            var atOwner = RawFtpClient.ReadToEndAsync(owner);
            await client.SendAsync(upload);
            client.Shutdown(SocketShutdown.Send); // the end of the upload reaches the owner as an end
            Assert.Equal(upload, await atOwner);

            await owner.SendAsync("226 from the owner"u8.ToArray());
            owner.Shutdown(SocketShutdown.Send);
            Assert.Equal("226 from the owner"u8.ToArray(), await RawFtpClient.ReadToEndAsync(client));
            Assert.Equal(upload.Length + 18, await pump);
        }
    }

    [Theory]
    [InlineData(100)] // within the first MiB: the copy loop
    [InlineData(8 * 1024 * 1024)] // past it, into an owner that reads nothing: a splice blocked on a full connection
    public async Task APumpWhereNothingMovesForTheIdleTime_IsCut_AndBothSidesLearnItAsAReset(int sent)
    {
        var time = new FakeTimeProvider();
        var (client, relayClientSide) = await LoopbackSockets.PairAsync();
        var (relayOwnerSide, owner) = await LoopbackSockets.PairAsync();
        using (client)
        using (owner)
        {
            var pump = SocketPump.RunAsync(relayClientSide, relayOwnerSide, Idle, time, CancellationToken.None);
            var sending = client.SendAsync(new byte[sent]);
            await Poll.UntilAsync(() => owner.Available > 0, "bytes to reach the owner");

            // The owner reads nothing, so the flow stops once the buffers are full; from then on, a whole idle time
            // with nothing moved cuts the pump (each step moves the clock on by that time).
            await Poll.UntilAsync(
                () =>
                {
                    time.Advance(Idle);
                    return pump.IsCompleted;
                },
                "the pump to be cut");
            Assert.Equal(SocketError.ConnectionReset, await EndAsync(owner)); // never an end: a cut upload is not a finished one

            // The client learns it as a reset too: the kernel reports a reset once, to its blocked send if it has one.
            var clientEnd = await EndAsync(client);
            var sendReset = await sending.ContinueWith(t => t.Exception?.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset }, TaskScheduler.Default);
            Assert.True(clientEnd == SocketError.ConnectionReset || sendReset, $"the client saw {clientEnd}, its send {(sendReset ? "a reset" : "no reset")}");
        }
    }

    [Fact]
    public async Task AResetOnOneSide_ResetsTheOther()
    {
        var (client, relayClientSide) = await LoopbackSockets.PairAsync();
        var (relayOwnerSide, owner) = await LoopbackSockets.PairAsync();
        using (owner)
        {
            var pump = SocketPump.RunAsync(relayClientSide, relayOwnerSide, Idle, TimeProvider.System, CancellationToken.None);
            client.LingerState = new LingerOption(true, 0);
            client.Close(); // a reset

            await pump.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(SocketError.ConnectionReset, await EndAsync(owner));
        }
    }

    /// <summary>How a connection ends once everything sent has been read: Success for an end, else the error (a reset); within 30 s.</summary>
    private static async Task<SocketError> EndAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }

            return SocketError.Success;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode;
        }
    }
}

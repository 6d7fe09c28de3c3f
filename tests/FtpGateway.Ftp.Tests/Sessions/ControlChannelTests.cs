using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace FtpGateway.Ftp.Tests.Sessions;

/// <summary>Replies on a real TCP connection: sent at once while the socket takes them, waited for when it cannot.</summary>
public sealed class ControlChannelTests
{
    [Fact]
    public async Task TheDirectSend_TakesWhatTheSocketsBufferHolds_ThenNothing_WithoutWaiting()
    {
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            var bytes = new byte[1024 * 1024];
            var first = PeerSocket.SendWithoutWaiting(server, bytes);
            Assert.InRange(first, 1, bytes.Length - 1); // part of it, at once
            int more;
            var calls = 0;
            do
            {
                more = PeerSocket.SendWithoutWaiting(server, bytes); // while loopback moves bytes on to the client's buffer
            }
            while (more > 0 && ++calls < 1000);

            Assert.Equal(0, more); // both buffers full, the client reading nothing: it takes nothing, and does not wait
        }
    }

    [Fact]
    public async Task AReplyLargerThanTheSocketsBuffer_WaitsForTheClient_AndArrivesWholeWithNothingSentTwice()
    {
        var (client, server) = await ConnectedPairAsync();
        using (client)
        await using (var channel = new ControlChannel(server, 512, NullLogger.Instance))
        {
            // One reply line far larger than what the socket takes at once: part of it goes out directly, the rest
            // has to wait until the client reads.
            var text = Convert.ToHexString(RandomNumberGenerator.GetBytes(512 * 1024));
            var write = channel.WriteAsync(FtpReply.Of(200, text));
            Assert.False(write.IsCompleted, "the reply did not have to wait for the client");

            var expected = Encoding.ASCII.GetBytes($"200 {text}\r\n");
            var received = new byte[expected.Length];
            var read = 0;
            while (read < expected.Length)
            {
                var n = await client.ReceiveAsync(received.AsMemory(read));
                Assert.NotEqual(0, n);
                read += n;
            }

            await write;
            Assert.Equal(expected, received); // had the part sent directly been sent again, the reply would restart in the middle

        }
    }

    /// <summary>A loopback connection whose buffers are as small as the kernel allows: the client reads nothing yet.</summary>
    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync()
    {
        var (client, server) = await LoopbackSockets.PairAsync(receiveBufferSize: 4096);
        server.SendBufferSize = 4096;
        return (client, server);
    }
}

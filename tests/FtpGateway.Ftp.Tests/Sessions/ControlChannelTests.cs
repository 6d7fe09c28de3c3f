using System.Net;
using System.Net.Sockets;
using System.Text;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using Microsoft.Extensions.Logging.Abstractions;

namespace FtpGateway.Ftp.Tests.Sessions;

/// <summary>Replies on a real TCP connection: sent at once while the socket takes them, waited for when it cannot.</summary>
public sealed class ControlChannelTests
{
    [Fact]
    public async Task RepliesToAClientThatStopsReading_WaitForIt_ThenAllArriveWholeAndInOrder()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();
        await using var channel = new ControlChannel(accepted, 512, NullLogger.Instance);

        // The client reads nothing: sooner or later the socket's buffers are full and a reply has to wait.
        var sent = new StringBuilder();
        Task write;
        var i = 0;
        do
        {
            var text = $"reply {i++} " + new string('x', 4000);
            sent.Append("200 ").Append(text).Append("\r\n");
            write = channel.WriteAsync(FtpReply.Of(200, text));
        }
        while (write.IsCompleted && i < 100_000);

        Assert.False(write.IsCompleted, "no reply ever had to wait for the client");

        // Once the client reads, the waiting reply goes out behind the part the socket took, and nothing is lost.
        var expected = Encoding.ASCII.GetBytes(sent.ToString());
        var received = new byte[expected.Length];
        var read = 0;
        while (read < received.Length)
        {
            var n = await client.ReceiveAsync(received.AsMemory(read));
            Assert.NotEqual(0, n);
            read += n;
        }

        await write;
        Assert.Equal(expected, received);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Transfers;

/// <summary>Passive ports: handed out in no predictable order, each listener taking one connection.</summary>
public sealed class PassivePortPoolTests
{
    [Fact]
    public async Task PassivePorts_AreHandedOutInNoPredictableOrder()
    {
        var first = FreePorts.Range(1000);
        await using var server = await TestServer.StartAsync(o => o.PassivePortRange = $"{first}-{first + 999}");
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        var ports = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            var reply = await c.ExpectAsync("EPSV", 229);
            ports.Add(int.Parse(reply.Message.Split('|')[3], System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.All(ports, p => Assert.InRange(p, first, first + 999));
        var steps = ports.Zip(ports.Skip(1), (a, b) => b - a).ToList();
        Assert.True(steps.Distinct().Count() > 10, "consecutive ports differ by varying steps: " + string.Join(",", ports));
        Assert.True(steps.Count(step => step == 1) < 3, "ports are not handed out in sequence: " + string.Join(",", ports));
    }

    [Fact]
    public async Task APassiveListener_TakesOneConnection_ThenCloses()
    {
        var first = FreePorts.Range(100); // the late connection must find the port closed, not another listener there
        await using var server = await TestServer.StartAsync(o => o.PassivePortRange = $"{first}-{first + 99}");
        File.WriteAllText(server.Root.File("f.txt"), "hello");
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        var reply = await c.ExpectAsync("EPSV", 229);
        var port = int.Parse(reply.Message.Split('|')[3], System.Globalization.CultureInfo.InvariantCulture);
        using var data = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await data.ConnectAsync(IPAddress.Loopback, port);
        await c.ExpectAsync("RETR f.txt", 150);
        Assert.Equal("hello", Encoding.ASCII.GetString(await RawFtpClient.ReadToEndAsync(data)));
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);

        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(async () => await late.ConnectAsync(IPAddress.Loopback, port));
    }
}

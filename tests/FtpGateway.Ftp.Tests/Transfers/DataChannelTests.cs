using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Transfers;

/// <summary>Data connections over real sockets: passive and active mode, the addresses and ports they use, and what they refuse.</summary>
public sealed class DataChannelTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Disk(string path) => _server.Root.File(path);

    [Fact]
    public async Task Pasv_AdvertisesTheControlAddress_AndCarriesData()
    {
        File.WriteAllText(Disk("p.txt"), "via pasv");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        using var data = await c.OpenPasvAsync();
        await c.ExpectAsync("RETR p.txt", 150);
        Assert.Equal("via pasv", Encoding.UTF8.GetString(await RawFtpClient.ReadToEndAsync(data)));
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
    }

    [Fact]
    public async Task Pasv_AdvertisesThePublicAddress_WhenConfigured()
    {
        await using var server = await TestServer.StartAsync(o => o.PublicAddress = "203.0.113.7");
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        Assert.StartsWith("227 Entering Passive Mode (203,0,113,7,", (await c.SendAsync("PASV")).Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ActiveMode_PortAndEprt_CarryDataBothWays(bool extended)
    {
        var content = RandomNumberGenerator.GetBytes(300_000);
        await using var c = await RawFtpClient.LoginAsync(_server.Port);

        async Task<Socket> Accept(Func<int, string> command)
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            await c.ExpectAsync(command(port), 200);
            return listener;
        }

        string Command(int port) => extended ? $"EPRT |1|127.0.0.1|{port}|" : $"PORT 127,0,0,1,{port >> 8},{port & 255}";

        using (var listener = await Accept(Command))
        {
            await c.ExpectAsync("STOR active.bin", 150);
            using var data = await listener.AcceptAsync();
            await data.SendAsync(content);
            data.Shutdown(SocketShutdown.Send);
            data.Close();
            Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        }

        Assert.Equal(content, File.ReadAllBytes(Disk("active.bin")));
        using (var listener = await Accept(Command))
        {
            await c.ExpectAsync("RETR active.bin", 150);
            using var data = await listener.AcceptAsync();
            Assert.Equal(content, await RawFtpClient.ReadToEndAsync(data));
            Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        }
    }

    [Theory]
    [InlineData("PORT 10,0,0,1,200,10")]            // FTP bounce to another host (RFC 2577)
    [InlineData("PORT 127,0,0,1,0,25")]             // privileged port
    [InlineData("EPRT |1|192.0.2.1|5000|")]
    [InlineData("EPRT |1|127.0.0.1|21|")]
    [InlineData("PORT 1,2,3")]
    [InlineData("PORT 127,0,0,1,300,1")]
    [InlineData("EPRT |1|not-an-ip|5000|")]
    public async Task ActiveMode_RefusesBounceTargetsAndBadSyntax_With501(string command)
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync(command, 501);
        await c.ExpectAsync("RETR x", 550);
    }

    [Fact]
    public async Task Eprt_WithAnUnknownProtocol_Is522_AndEpsvAllLocksOutTheOthers()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("EPRT |3|x|5000|", 522);
        await c.ExpectAsync("EPSV 2", 522);
        await c.ExpectAsync("EPSV ALL", 200);
        await c.ExpectAsync("PASV", 503);
        await c.ExpectAsync("PORT 127,0,0,1,200,10", 503);
        await c.ExpectAsync("EPSV", 229);
    }

    [Fact]
    public async Task ActiveMode_CanBeDisabled_With502()
    {
        await using var server = await TestServer.StartAsync(o => o.AllowActiveMode = false);
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        await c.ExpectAsync("PORT 127,0,0,1,200,10", 502);
        await c.ExpectAsync("EPRT |1|127.0.0.1|5000|", 502);
        var feat = await c.ExpectAsync("FEAT", 211);
        Assert.DoesNotContain(" EPRT", feat.Lines); // FEAT lists only what works (RFC 2389)
        Assert.Contains(" EPSV", feat.Lines);
    }

    [Fact]
    public async Task TransferWithoutADataChannel_Is425()
    {
        File.WriteAllText(Disk("f"), "x");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("RETR f", 425);
        await c.ExpectAsync("STOR g", 425);
        await c.ExpectAsync("LIST", 425);
    }

    [Fact]
    public async Task PassivePorts_ComeFromTheConfiguredRange_AndExhaustionIs425()
    {
        var start = FreePorts.Range(2);
        await using var server = await TestServer.StartAsync(o => o.PassivePortRange = $"{start}-{start + 1}");
        await using var a = await RawFtpClient.LoginAsync(server.Port);
        await using var b = await RawFtpClient.LoginAsync(server.Port);
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        var ports = new[] { await EpsvPort(a), await EpsvPort(b) };
        Assert.Equal([start, start + 1], ports.Order());
        await c.ExpectAsync("EPSV", 425);
        await a.ExpectAsync("ABOR", 226); // releases a's port
        Assert.InRange(await EpsvPort(c), start, start + 1);
    }

    [Fact]
    public async Task PassiveDataConnections_FromAnotherAddress_AreRefused()
    {
        File.WriteAllText(Disk("secret.bin"), "for the client only");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        var port = await EpsvPort(c);

        // An intruder on another address (127.0.0.2 is loopback too) connects first.
        using var intruder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        intruder.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await intruder.ConnectAsync(IPAddress.Loopback, port);
        await c.ExpectAsync("RETR secret.bin", 150);
        using var legit = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await legit.ConnectAsync(IPAddress.Loopback, port);
        Assert.Equal("for the client only", Encoding.UTF8.GetString(await RawFtpClient.ReadToEndAsync(legit)));
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Empty(await RawFtpClient.ReadToEndAsync(intruder));
    }

    private static async Task<int> EpsvPort(RawFtpClient c)
    {
        var text = (await c.ExpectAsync("EPSV", 229)).Text;
        var start = text.IndexOf("|||", StringComparison.Ordinal) + 3;
        return int.Parse(text[start..text.IndexOf('|', start)], CultureInfo.InvariantCulture);
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Sessions;

/// <summary>
/// PROXY protocol over real TCP: the test plays the load balancer from 127.0.0.1 (trusted) and names clients on
/// documentation addresses (198.51.100.0/24) that could never connect on their own.
/// </summary>
public sealed class ProxiedConnectionsTests
{
    private static readonly IPAddress Client = IPAddress.Parse("198.51.100.7");

    private static Task<TestServer> StartAsync(string trusted = "127.0.0.1/32") =>
        TestServer.StartAsync(
            o =>
            {
                o.ProxyProtocol.TrustedProxies = [trusted];
                (o.LoginFailureDelay, o.MaxLoginFailures) = (TimeSpan.Zero, 10);
            },
            security: s => s.Bans.MaxFailures = 2);

    internal static byte[] V1(IPAddress source, int sourcePort = 40000, int destinationPort = 21) =>
        Encoding.ASCII.GetBytes($"PROXY TCP4 {source} 127.0.0.1 {sourcePort} {destinationPort}\r\n");

    internal static byte[] V2(IPAddress source, int sourcePort = 40000, int destinationPort = 21, byte[]? tlv = null)
    {
        tlv ??= [];
        var header = new byte[16 + 12 + tlv.Length];
        new byte[] { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A }.CopyTo(header, 0);
        header[12] = 0x21; // version 2, PROXY
        header[13] = 0x11; // TCP over IPv4
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)(12 + tlv.Length));
        source.GetAddressBytes().CopyTo(header, 16);
        IPAddress.Loopback.GetAddressBytes().CopyTo(header, 20);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(24), (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(26), (ushort)destinationPort);
        tlv.CopyTo(header, 28);
        return header;
    }

    [Fact]
    public async Task OneIpv6Slash64_IsOneClient_ForTheSessionsPerAddress()
    {
        // Bans already counted an IPv6 client by its /64; the per-address session limit counted single addresses,
        // so one host with a /64 opened as many sessions (and passive ports) as it liked.
        await using var server = await TestServer.StartAsync(o =>
        {
            o.ProxyProtocol.TrustedProxies = ["127.0.0.1/32"];
            o.MaxSessionsPerAddress = 3;
        });
        byte[] From(string source) => Encoding.ASCII.GetBytes($"PROXY TCP6 {source} 2001:db8::1 40000 21\r\n");
        var open = new List<RawFtpClient>();
        for (var i = 1; i <= 3; i++)
        {
            var client = await RawFtpClient.ConnectAsync(server.Port, prefix: From($"2001:db8:aa:bb::{i:x}"));
            Assert.Equal(220, client.Greeting.Code);
            open.Add(client);
        }

        await using (var fourth = await RawFtpClient.ConnectAsync(server.Port, prefix: From("2001:db8:aa:bb:ffff::9")))
        {
            Assert.Equal(421, fourth.Greeting.Code); // the same /64
        }

        await using (var neighbour = await RawFtpClient.ConnectAsync(server.Port, prefix: From("2001:db8:aa:bc::1")))
        {
            Assert.Equal(220, neighbour.Greeting.Code); // another /64
        }

        await open[0].DisposeAsync();
        await Poll.UntilAsync(() => server.ActiveSessions == 2, "the first session to end");
        await using (var again = await RawFtpClient.ConnectAsync(server.Port, prefix: From("2001:db8:aa:bb::42")))
        {
            Assert.Equal(220, again.Greeting.Code); // a slot of the /64 is free again
        }

        foreach (var client in open.Skip(1))
        {
            await client.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task TheHeadersSource_IsTheClient_ForBansAndActiveModeChecks(int version)
    {
        await using var server = await StartAsync();
        byte[] Header(IPAddress a) => version == 1 ? V1(a) : V2(a, tlv: [0x04, 0x00, 0x02, 0xAB, 0xCD]); // v2 with a TLV (skipped)

        await using (var attacker = await RawFtpClient.ConnectAsync(server.Port, prefix: Header(Client)))
        {
            Assert.Equal(220, attacker.Greeting.Code);
            await attacker.ExpectAsync("USER " + TestServer.UserName, 331);
            await attacker.ExpectAsync("PASS wrong", 530);
            await attacker.ExpectAsync("USER " + TestServer.UserName, 331);
            await attacker.ExpectAsync("PASS wrong", 421); // the ban lands on 198.51.100.7, not on the proxy
        }

        await using (var again = await RawFtpClient.ConnectAsync(server.Port, prefix: Header(Client)))
        {
            Assert.Equal(421, again.Greeting.Code);
        }

        // Another client through the same proxy, and the proxy's own connections, are not banned.
        var local = V2(IPAddress.Any)[..16];
        (local[12], local[13], local[14], local[15]) = (0x20, 0x00, 0, 0); // LOCAL: the proxy's own health check
        await using (var probe = await RawFtpClient.ConnectAsync(server.Port, prefix: local))
        {
            Assert.Equal(220, probe.Greeting.Code);
        }

        await using var other = await RawFtpClient.ConnectAsync(server.Port, prefix: Header(IPAddress.Parse("198.51.100.8")));
        await other.ExpectAsync("USER " + TestServer.UserName, 331);
        await other.ExpectAsync("PASS " + TestServer.Password, 230);

        // Active mode may only target the client's own address: the header's, not the proxy's.
        await other.ExpectAsync("PORT 198,51,100,8,195,80", 200);
        await other.ExpectAsync("PORT 127,0,0,1,195,80", 501);
    }

    [Fact]
    public async Task APassiveDataConnectionThroughTheProxy_CarriesAHeader_WhoseSourceMustBeTheClient()
    {
        await using var server = await StartAsync();
        File.WriteAllText(server.Root.File("report.csv"), "a,b,c\n");
        await using var c = await RawFtpClient.ConnectAsync(server.Port, prefix: V1(Client));
        await c.ExpectAsync("USER " + TestServer.UserName, 331);
        await c.ExpectAsync("PASS " + TestServer.Password, 230);

        // PASV advertises the address the client connected to, from the header (here the proxy's 127.0.0.1).
        var pasv = await c.ExpectAsync("PASV", 227);
        Assert.Contains("(127,0,0,1,", pasv.Message, StringComparison.Ordinal);
        var numbers = pasv.Message[(pasv.Message.IndexOf('(', StringComparison.Ordinal) + 1)..pasv.Message.IndexOf(')', StringComparison.Ordinal)].Split(',').Select(int.Parse).ToArray();
        var port = (numbers[4] << 8) | numbers[5];

        // A connection on behalf of somebody else is refused; then the client's own gets the file.
        using var thief = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await thief.ConnectAsync(IPAddress.Loopback, port);
        await thief.SendAsync(V2(IPAddress.Parse("198.51.100.66")));
        await c.ExpectAsync("RETR report.csv", 150);
        using var data = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await data.ConnectAsync(IPAddress.Loopback, port);
        await data.SendAsync(V2(Client, 40001, port));
        Assert.Equal("a,b,c\n", Encoding.ASCII.GetString(await RawFtpClient.ReadToEndAsync(data)));
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Empty(await RawFtpClient.ReadToEndAsync(thief)); // closed without a byte of the file
    }

    [Fact]
    public async Task AnUploadThroughTheProxy_KeepsTheBytesThatFollowTheHeader()
    {
        // The proxy sends header and data in one segment: not one byte after the header may be lost.
        await using var server = await StartAsync();
        await using var c = await RawFtpClient.ConnectAsync(server.Port, prefix: V1(Client));
        await c.ExpectAsync("USER " + TestServer.UserName, 331);
        await c.ExpectAsync("PASS " + TestServer.Password, 230);
        var epsv = await c.ExpectAsync("EPSV", 229);
        var port = int.Parse(epsv.Message.Split('|')[3], System.Globalization.CultureInfo.InvariantCulture);
        await c.ExpectAsync("STOR up.bin", 150);
        using var data = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await data.ConnectAsync(IPAddress.Loopback, port);
        var payload = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        await data.SendAsync(V1(Client).Concat(payload).ToArray());
        data.Shutdown(SocketShutdown.Send);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Equal(payload, File.ReadAllBytes(server.Root.File("up.bin")));
    }

    [Theory]
    [InlineData("USER alice\r\n")] // no header at all
    [InlineData("PROXY TCP4 198.51.100.7 127.0.0.1 99999 21\r\n")] // a port out of range
    [InlineData("PROXY TCP6 198.51.100.7 127.0.0.1 1 21\r\n")] // an IPv4 address in a TCP6 line
    [InlineData("PROXY TCP4 1 2 3 4\r\n")] // not dotted quads (was taken as client 0.0.0.1)
    [InlineData("\r\n\r\n\0\r\nQUIT\n\x0021\x0011\x0000\x0004ABCD")] // v2: TCP over IPv4 in a 4-byte address block
    public async Task AMissingOrMalformedHeaderFromATrustedProxy_ClosesTheConnection(string first)
    {
        await using var server = await StartAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port);
        await tcp.GetStream().WriteAsync(Encoding.Latin1.GetBytes(first));
        Assert.Empty(await ReadAllAsync(tcp)); // closed, without a greeting
        Assert.Equal(0, server.ActiveSessions);
    }

    [Fact]
    public async Task AHeaderFromAnUntrustedAddress_ClosesTheConnection()
    {
        await using var server = await StartAsync(trusted: "127.0.0.5/32");
        await using var c = await RawFtpClient.ConnectAsync(server.Port, from: IPAddress.Parse("127.0.0.2"));
        Assert.Equal(220, c.Greeting.Code); // an ordinary client: nobody vouches for a header from it
        await c.SendRawAsync(V1(Client));
        Assert.Equal(421, (await c.ReadReplyAsync()).Code);
        Assert.True(await c.IsClosedByServerAsync());
    }

    [Fact]
    public async Task AHealthCheckFromTheProxy_WithALocalHeader_GetsTheGreeting()
    {
        await using var server = await StartAsync();
        var local = V2(IPAddress.Any)[..16];
        local[12] = 0x20; // LOCAL
        local[13] = 0x00;
        local[14] = local[15] = 0;
        await using var probe = await RawFtpClient.ConnectAsync(server.Port, prefix: local);
        Assert.Equal(220, probe.Greeting.Code);
    }

    private static async Task<byte[]> ReadAllAsync(TcpClient tcp)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var all = new MemoryStream();
        var buffer = new byte[1024];
        try
        {
            int n;
            while ((n = await tcp.GetStream().ReadAsync(buffer, timeout.Token)) > 0)
            {
                all.Write(buffer, 0, n);
            }
        }
        catch (IOException)
        {
        }

        return all.ToArray();
    }
}

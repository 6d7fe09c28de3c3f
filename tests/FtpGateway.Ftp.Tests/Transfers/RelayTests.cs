using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FtpGateway.Ftp.Transfers.Relay;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Transfers;

/// <summary>
/// Two gateways with Ftp:Relay on their own loopback addresses (ordinal 0 on 127.0.0.11, ordinal 1 on .12): a data
/// connection that reaches the gateway which does not own its port is passed to the owner, with the client's
/// address; anything the owner does not expect, or that does not carry the fleet's secret, is closed at once.
/// </summary>
public sealed class RelayTests : IAsyncLifetime
{
    private const string Secret = "a-fleet-secret-of-some-length";
    private static readonly IPAddress First = IPAddress.Parse("127.0.0.11");
    private static readonly IPAddress Second = IPAddress.Parse("127.0.0.12");

    private readonly int _relayPort = FreePorts.One();
    private readonly int _range = FreePorts.Range(8);
    private TestServer _owner = null!;
    private TestServer _other = null!;

    public async Task InitializeAsync()
    {
        _owner = await StartAsync(First, "gw-0");
        _other = await StartAsync(Second, "gw-1");
    }

    private Task<TestServer> StartAsync(IPAddress address, string replica) => TestServer.StartAsync(o =>
    {
        o.ListenAddress = address.ToString();
        o.PassivePortRange = $"{_range}-{_range + 7}";
        o.PassivePortsPerReplica = 4;
        o.Replica = replica;
        o.Relay = new FtpRelayOptions { Enabled = true, Secret = Secret, Port = _relayPort, PeerAddresses = [First.ToString(), Second.ToString()] };
    });

    [Theory]
    [InlineData("PASV")]
    [InlineData("EPSV")]
    public async Task ADataConnectionAtTheOtherGateway_ReachesItsSession_BothWays(string mode)
    {
        await using var c = await LoginAsync(_owner.Port, First);
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 5);

        var port = await PassivePortAsync(c, mode);
        Assert.InRange(port, _range, _range + 3); // the owner's own ports
        using (var data = await ConnectAsync(Second, port)) // the balancer sent it to the other gateway
        {
            await c.ExpectAsync("STOR relayed.bin", 150);
            await data.SendAsync(content);
            data.Shutdown(SocketShutdown.Send);
        }

        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Equal(content, await File.ReadAllBytesAsync(_owner.Root.File("relayed.bin")));

        port = await PassivePortAsync(c, mode);
        using (var data = await ConnectAsync(Second, port))
        {
            await c.ExpectAsync("RETR relayed.bin", 150);
            Assert.Equal(content, await ReadToEndAsync(data));
        }

        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
    }

    [Fact]
    public async Task ARelayedConnectionFromAnotherClient_IsRefusedByTheOwner_AsADirectOneWouldBe()
    {
        await using var c = await LoginAsync(_owner.Port, First);
        var port = await PassivePortAsync(c, "PASV");
        using var thief = await ConnectAsync(Second, port, from: IPAddress.Parse("127.0.0.5"));
        using var data = await ConnectAsync(Second, port);
        await c.ExpectAsync("STOR mine.bin", 150);
        Assert.Equal(0, await ReceiveOrZeroAsync(thief)); // relayed with its own address, and closed by the owner
        await data.SendAsync(new byte[] { 1, 2, 3 });
        data.Shutdown(SocketShutdown.Send);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(_owner.Root.File("mine.bin")));
    }

    [Fact]
    public async Task AConnectionNobodyExpects_IsClosedAtOnce()
    {
        // A port of the owner without a pending transfer, reached through the other gateway.
        using var stray = await ConnectAsync(Second, _range + 1);
        Assert.Equal(0, await ReceiveOrZeroAsync(stray));

        // The owner's refusal reached the relaying gateway, which let go of the client: a silent client that
        // connects to other gateways' ports never holds relays.
        await Poll.UntilAsync(() => _other.Server.ActiveRelays == 0, "the refused relay's place freed");
    }

    [Fact]
    public async Task AHeaderWithoutTheFleetsSecret_IsClosed_AndNeverReachesATransfer()
    {
        await using var c = await LoginAsync(_owner.Port, First);
        var port = await PassivePortAsync(c, "PASV");
        using var forged = await ConnectAsync(First, _relayPort);
        var key = SHA256.HashData("ftpgateway relay\nnot-the-fleet-secret-at-all"u8);
        await forged.SendAsync(RelayHeader.Create(key, port, new IPEndPoint(IPAddress.Loopback, 40000), DateTimeOffset.UtcNow));
        Assert.Equal(0, await ReceiveOrZeroAsync(forged));

        // The transfer still waits for its real client.
        using var data = await ConnectAsync(First, port);
        await c.ExpectAsync("STOR real.bin", 150);
        data.Shutdown(SocketShutdown.Send);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
    }

    [Fact]
    public async Task AReplayedHeader_IsRefused_EvenForTheSamePortWaitingAgain()
    {
        await using var c = await LoginAsync(_owner.Port, First);
        var key = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("ftpgateway relay\n" + Secret));
        var port = await PassivePortAsync(c, "PASV");
        var header = RelayHeader.Create(key, port, new IPEndPoint(IPAddress.Loopback, 40000), DateTimeOffset.UtcNow);
        using (var first = await ConnectAsync(First, _relayPort))
        {
            await first.SendAsync(header);
            await c.ExpectAsync("STOR once.bin", 150);
            first.Shutdown(SocketShutdown.Send);
            Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        }

        // The same port waits again (ports are handed out at random among the owner's four).
        while (await PassivePortAsync(c, "PASV") != port)
        {
        }

        using var replayed = await ConnectAsync(First, _relayPort);
        await replayed.SendAsync(header);
        Assert.Equal(0, await ReceiveOrZeroAsync(replayed));
    }

    private static async Task<RawFtpClient> LoginAsync(int port, IPAddress address)
    {
        var c = await RawFtpClient.ConnectAsync(port, address);
        await c.ExpectAsync("USER " + TestServer.UserName, 331);
        await c.ExpectAsync("PASS " + TestServer.Password, 230);
        return c;
    }

    private static async Task<int> PassivePortAsync(RawFtpClient c, string mode)
    {
        var reply = await c.ExpectAsync(mode, mode == "PASV" ? 227 : 229);
        if (mode == "EPSV")
        {
            var text = reply.Message;
            return int.Parse(text[(text.IndexOf("|||", StringComparison.Ordinal) + 3)..text.LastIndexOf('|')], System.Globalization.CultureInfo.InvariantCulture);
        }

        var n = reply.Message[(reply.Message.IndexOf('(', StringComparison.Ordinal) + 1)..reply.Message.IndexOf(')', StringComparison.Ordinal)].Split(',').Select(int.Parse).ToArray();
        return (n[4] << 8) | n[5];
    }

    private static async Task<Socket> ConnectAsync(IPAddress address, int port, IPAddress? from = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Bind(new IPEndPoint(from ?? IPAddress.Loopback, 0));
        await socket.ConnectAsync(address, port);
        return socket;
    }

    /// <summary>What a closed connection gives: 0 (or a reset, also 0 here), within 10 s.</summary>
    private static async Task<int> ReceiveOrZeroAsync(Socket socket)
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

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        return all.ToArray();
    }

    public async Task DisposeAsync()
    {
        await _other.DisposeAsync();
        await _owner.DisposeAsync();
    }
}

using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests;

/// <summary>The HA mode as one replica sees it: its slice of the passive range and the address it advertises.</summary>
public sealed class ReplicaTests
{
    private static (string Address, int Port) Pasv(WireReply reply)
    {
        var numbers = reply.Message[(reply.Message.IndexOf('(', StringComparison.Ordinal) + 1)..reply.Message.IndexOf(')', StringComparison.Ordinal)].Split(',').Select(int.Parse).ToArray();
        return (string.Join('.', numbers[..4]), (numbers[4] * 256) + numbers[5]);
    }

    [Fact]
    public async Task AReplica_UsesItsSliceOfThePassiveRange_AndAdvertisesItsOwnAddress()
    {
        var first = FreePorts.Range(30);
        await using var server = await TestServer.StartAsync(o =>
        {
            o.PassivePortRange = $"{first}-{first + 29}";
            o.Replica = "ftpgw-ftp-gateway-2";
            o.Replicas = 3;
            o.PublicAddresses = ["203.0.113.11", "203.0.113.12", "203.0.113.13"];
        });
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        for (var i = 0; i < 10; i++)
        {
            var (address, port) = Pasv(await c.ExpectAsync("PASV", 227));
            Assert.Equal("203.0.113.13", address);
            Assert.InRange(port, first + 20, first + 29);
        }
    }

    [Fact]
    public async Task PublicHost_IsResolved_AndAdvertised()
    {
        // The server listens on 127.0.0.2; the name resolves to 127.0.0.1: PASV must carry the name's address.
        await using var server = await TestServer.StartAsync(o => (o.ListenAddress, o.PublicHost) = ("127.0.0.2", "localhost"));
        await using var c = await RawFtpClient.ConnectAsync(server.Port, System.Net.IPAddress.Parse("127.0.0.2"));
        await c.ExpectAsync("USER " + TestServer.UserName, 331);
        await c.ExpectAsync("PASS " + TestServer.Password, 230);
        Assert.Equal("127.0.0.1", Pasv(await c.ExpectAsync("PASV", 227)).Address);
    }

    [Theory]
    [InlineData("gw-3", 3, "must end in an ordinal below")]
    [InlineData("gw-x", 3, "must end in an ordinal below")]
    [InlineData("gw-1", 30, "at least one port per replica")]
    public void ABadReplicaConfiguration_StopsTheStart(string replica, int replicas, string message)
    {
        var result = new OptionsValidator<FtpServerOptions>().Validate(null, new FtpServerOptions { PassivePortRange = "43000-43009", Replica = replica, Replicas = replicas });
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gw-0", 50000, 50009)]
    [InlineData("gw-3", 50030, 50039)]
    [InlineData("gw-9", 50090, 50099)]
    public void PortsPerReplica_GiveEachOrdinalItsOwnPorts_WhateverTheFleetSize(string replica, int start, int end)
    {
        var options = new FtpServerOptions { PassivePortRange = "50000-50099", PassivePortsPerReplica = 10, Replica = replica };
        Assert.Empty(options.Validate());
        Assert.Equal(new PortRange(start, end), options.Network.OwnPassiveRange);
    }

    [Theory]
    [InlineData("gw-10", 10, null, "needs 110")]
    [InlineData("gw-0", 10, "50000-50099:replicas", "divide the passive range in two different ways")]
    [InlineData("gw-0", -1, null, "must not be negative")]
    public void ABadPortsPerReplica_StopsTheStart(string replica, int perReplica, string? extra, string message)
    {
        var options = new FtpServerOptions { PassivePortRange = "50000-50099", PassivePortsPerReplica = perReplica, Replica = replica, Replicas = extra is null ? 1 : 3 };
        Assert.Contains(options.Validate(), e => e.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void TheRelay_NeedsItsPortsASecretAndItsPeers_AndOneAdvertisedAddress()
    {
        var options = new FtpServerOptions { Relay = { Enabled = true, Secret = "short", Port = 50001, PeerHost = "gw.peers" }, PassivePortRange = "50000-50099", PublicAddresses = ["192.0.2.1"] };
        var errors = options.Validate().ToList();
        Assert.Contains(errors, e => e.Contains("Ftp:Relay:Enabled needs Ftp:PassivePortRange and Ftp:PassivePortsPerReplica", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Ftp:Relay:Secret must be at least 16 characters", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Ftp:Relay:Port 50001", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Ftp:Relay:PeerHost 'gw.peers' must be a DNS name with {ordinal}", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("not Ftp:PublicAddresses", StringComparison.Ordinal));

        var good = new FtpServerOptions
        {
            PassivePortRange = "50000-50099",
            PassivePortsPerReplica = 10,
            Replica = "ftp-gateway-2",
            PublicHost = "ftp.example.com",
            Relay = { Enabled = true, Secret = "0123456789abcdef", PeerHost = "ftp-gateway-{ordinal}.ftp-gateway-peers" },
        };
        Assert.Empty(good.Validate());
        Assert.Equal(5, good.Network.Relay!.OwnerOf(50055));
        Assert.Equal(new PortRange(50020, 50029), good.Network.OwnPassiveRange);
    }
}

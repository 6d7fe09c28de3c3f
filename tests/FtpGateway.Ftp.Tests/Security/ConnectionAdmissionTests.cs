using System.Net;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Security;

/// <summary>Address rules refuse a connection before the greeting.</summary>
public sealed class ConnectionAdmissionTests
{
    [Fact]
    public async Task AddressRules_RefuseBeforeTheGreeting_AndTheDenyListWins()
    {
        await using var server = await TestServer.StartAsync(
            security: s => (s.AllowedAddresses, s.DeniedAddresses) = (["127.0.0.0/30", "::ffff:127.0.0.8/127"], ["127.0.0.3"]));
        foreach (var (from, allowed) in new[] { ("127.0.0.1", true), ("127.0.0.2", true), ("127.0.0.3", false), ("127.0.0.4", false), ("127.0.0.9", true), ("127.0.0.10", false) })
        {
            await using var c = await RawFtpClient.ConnectAsync(server.Port, from: IPAddress.Parse(from));
            Assert.True(allowed == (c.Greeting.Code == 220), $"{from}: {c.Greeting}");
            if (!allowed)
            {
                Assert.Equal(421, c.Greeting.Code);
                Assert.True(await c.IsClosedByServerAsync());
            }
        }
    }
}

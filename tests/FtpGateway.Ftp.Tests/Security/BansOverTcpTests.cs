using System.Net;
using System.Net.Sockets;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Security;

/// <summary>Bans over real TCP: failures counted across sessions, expiry and doubling, exempt networks, a password spray.</summary>
public sealed class BansOverTcpTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Neighbour = IPAddress.Parse("127.0.0.3");

    private static Action<FtpServerOptions> NoDelay => o => (o.LoginFailureDelay, o.MaxLoginFailures) = (TimeSpan.Zero, 3);

    private static async Task<WireReply> FailLoginAsync(RawFtpClient client)
    {
        await client.ExpectAsync("USER " + TestServer.UserName, 331);
        return await client.SendAsync("PASS wrong");
    }

    [Fact]
    public async Task FailuresAcrossSessions_BanTheAddress_WhileAnotherAddressLogsInFine()
    {
        await using var server = await TestServer.StartAsync(NoDelay, security: s => s.Bans.MaxFailures = 4);
        await using var bystander = await RawFtpClient.ConnectAsync(server.Port, from: Attacker); // open before the ban
        await using (var first = await RawFtpClient.ConnectAsync(server.Port, from: Attacker))
        {
            Assert.Equal(530, (await FailLoginAsync(first)).Code);
            Assert.Equal(530, (await FailLoginAsync(first)).Code);
        }

        await using (var second = await RawFtpClient.ConnectAsync(server.Port, from: Attacker))
        {
            Assert.Equal(530, (await FailLoginAsync(second)).Code);
            var banned = await FailLoginAsync(second); // the fourth failure from this address, in another session
            Assert.Equal(421, banned.Code);
            Assert.Contains("banned", banned.Message, StringComparison.Ordinal);
            Assert.True(await second.IsClosedByServerAsync());
        }

        Assert.Equal(1, server.ActiveBans);
        await Poll.UntilAsync(() => server.ActiveSessions == 1, "only the bystander's session is left");

        // New connections are refused before any greeting, and hold no session slot.
        await using (var refused = await RawFtpClient.ConnectAsync(server.Port, from: Attacker))
        {
            Assert.Equal(421, refused.Greeting.Code);
            Assert.True(await refused.IsClosedByServerAsync());
        }

        Assert.Equal(1, server.ActiveSessions);

        // The session that was already open ends at its next login attempt, even with the right password.
        Assert.Equal(421, (await bystander.SendAsync("USER " + TestServer.UserName)).Code);

        // Another address is not affected.
        await using var neighbour = await RawFtpClient.LoginAsync(server.Port, from: Neighbour);
        await neighbour.ExpectAsync("NOOP", 200);
    }

    [Fact]
    public async Task ABan_Expires_AndARepeatOffendersBanDoubles()
    {
        var time = new FakeTimeProvider();
        await using var server = await TestServer.StartAsync(
            NoDelay, time: time, security: s => (s.Bans.MaxFailures, s.Bans.Duration) = (2, TimeSpan.FromMinutes(15)));
        async Task BanAsync()
        {
            await using var c = await RawFtpClient.ConnectAsync(server.Port, from: Attacker);
            Assert.Equal(530, (await FailLoginAsync(c)).Code);
            Assert.Equal(421, (await FailLoginAsync(c)).Code);
        }

        async Task<int> GreetingAsync()
        {
            await using var c = await RawFtpClient.ConnectAsync(server.Port, from: Attacker);
            return c.Greeting.Code;
        }

        await BanAsync();
        Assert.Equal(421, await GreetingAsync());
        time.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal(220, await GreetingAsync());
        await Poll.UntilAsync(() => server.ActiveBans == 0, "the expired ban lifted");

        await BanAsync(); // again, while the first ban is remembered: 30 minutes
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(421, await GreetingAsync());
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(220, await GreetingAsync());
    }

    [Fact]
    public async Task ExemptNetworks_AreNeverBanned()
    {
        await using var server = await TestServer.StartAsync(
            NoDelay, security: s => (s.Bans.MaxFailures, s.Bans.Exempt) = (2, ["127.0.0.2/32"]));
        for (var session = 0; session < 3; session++)
        {
            await using var c = await RawFtpClient.ConnectAsync(server.Port, from: Attacker);
            Assert.Equal(530, (await FailLoginAsync(c)).Code);
            Assert.Equal(530, (await FailLoginAsync(c)).Code);
        }

        Assert.Equal(0, server.ActiveBans);
        await using var fine = await RawFtpClient.LoginAsync(server.Port, from: Attacker);
        await fine.ExpectAsync("NOOP", 200);
    }

    [Fact]
    public async Task TheDefaults_StopAPasswordSprayFromOneAddress_AfterTenGuesses()
    {
        // 200 guesses at once from one address with the default Security options: about ten are checked, the
        // rest are answered 421 without a check (in flight when the ban landed) or refused before the greeting.
        await using var server = await TestServer.StartAsync(o => o.LoginFailureDelay = TimeSpan.FromMilliseconds(100));
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            try
            {
                await using var c = await RawFtpClient.ConnectAsync(server.Port, from: Attacker);
                if (c.Greeting.Code != 220)
                {
                    return "refused";
                }

                var user = await c.SendAsync("USER jailed");
                return user.Code != 331 ? "banned" : (await c.SendAsync("PASS guess")).Code == 530 ? "checked" : "banned";
            }
            catch (Exception ex) when (ex is IOException or SocketException or EndOfStreamException)
            {
                return "refused"; // closed while connecting: refused all the same
            }
        }));
        var checkedGuesses = outcomes.Count(o => o == "checked");
        Assert.Equal(9, checkedGuesses); // the tenth failure bans, and is answered 421 itself
        Assert.Equal(200 - checkedGuesses, outcomes.Count(o => o is "banned" or "refused"));
        Assert.Equal(1, server.ActiveBans);
        await using var neighbour = await RawFtpClient.LoginAsync(server.Port, from: Neighbour);
        await neighbour.ExpectAsync("NOOP", 200);
    }
}

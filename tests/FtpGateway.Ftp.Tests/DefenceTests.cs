using System.Net;
using System.Net.Sockets;
using System.Text;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests;

/// <summary>
/// Internet-facing defence over real TCP, with clients on several loopback addresses (127.0.0.2, .3, ... all
/// reach the server on 127.0.0.1 and are seen as distinct clients).
/// </summary>
public sealed class DefenceTests
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

    [Fact]
    public async Task AFloodOfWrongPasswords_DelaysOnlyTheFlood()
    {
        // Regression: each failed login ran its key derivation on the thread pool, so 100 at once stalled every
        // session (a NOOP took 5.3 s). Now a bounded number run at once, on their own threads, in turn per address.
        var users = new UserDirectory(
            [
                new UserOptions { Name = "hashed", PasswordHash = PasswordHasher.Hash("right", 300_000) },
                new UserOptions { Name = TestServer.UserName, Password = TestServer.Password },
            ],
            new AnonymousOptions());
        await using var server = await TestServer.StartAsync(
            NoDelay, users: users, security: s => (s.Bans.Enabled, s.MaxConcurrentPasswordChecks) = (false, 1)); // one core left for everything else on a 2-core machine
        await using var working = await RawFtpClient.LoginAsync(server.Port, from: Neighbour);

        var answered = 0;
        var flood = Enumerable.Range(0, 60).Select(async _ =>
        {
            await using var c = await RawFtpClient.ConnectAsync(server.Port, from: Attacker);
            await c.ExpectAsync("USER hashed", 331);
            var reply = await c.SendAsync("PASS wrong");
            Interlocked.Increment(ref answered);
            return reply.Code;
        }).ToList();
        await Poll.UntilAsync(() => answered >= 2, "the flood under way");

        // A login from another address, started now, waits for one check in its turn, not for the whole flood.
        var answeredWhenOtherGotIn = -1;
        var other = Task.Run(async () =>
        {
            await using var o = await RawFtpClient.ConnectAsync(server.Port, from: IPAddress.Parse("127.0.0.4"));
            await o.ExpectAsync("USER hashed", 331);
            await o.ExpectAsync("PASS right", 230);
            answeredWhenOtherGotIn = answered;
        });

        // A logged-in session keeps answering at once while the flood runs.
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 20 && answered < 60; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await working.ExpectAsync("NOOP", 200);
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
        }

        await other;
        Assert.All(await Task.WhenAll(flood), code => Assert.Equal(530, code));
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"the slowest NOOP during the flood took {slowest.TotalMilliseconds:F0} ms");
        Assert.True(answeredWhenOtherGotIn < 50, $"the other address logged in only after {answeredWhenOtherGotIn} of the flood's 60 checks");
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

    [Fact]
    public async Task AConnectionThatNeverLogsIn_IsClosedAfterTheLoginTimeout()
    {
        var time = new FakeTimeProvider();
        await using var server = await TestServer.StartAsync(
            o => (o.LoginTimeout, o.IdleTimeout, o.LoginFailureDelay) = (TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10), TimeSpan.Zero), time: time);
        await using var loggedIn = await RawFtpClient.LoginAsync(server.Port);
        await using var lurker = await RawFtpClient.ConnectAsync(server.Port);
        await lurker.ExpectAsync("NOOP", 200); // commands do not extend the login timeout
        time.Advance(TimeSpan.FromSeconds(59));
        await lurker.ExpectAsync("FEAT", 211);
        var reply = lurker.ReadReplyAsync();
        await Poll.UntilAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return reply.IsCompleted;
            },
            "the login timeout");
        Assert.Equal(421, (await reply).Code);
        Assert.Contains("Login timeout", (await reply).Message, StringComparison.Ordinal);
        Assert.True(time.GetUtcNow() - time.Start <= TimeSpan.FromSeconds(66), "closed at the login timeout, not later");
        Assert.True(await lurker.IsClosedByServerAsync());

        // A logged-in session only has the idle timeout; after REIN the login timeout counts from there.
        await loggedIn.ExpectAsync("NOOP", 200);
        await loggedIn.ExpectAsync("REIN", 220);
        time.Advance(TimeSpan.FromSeconds(30));
        await loggedIn.ExpectAsync("USER " + TestServer.UserName, 331);
        await loggedIn.ExpectAsync("PASS " + TestServer.Password, 230);
    }

    [Fact]
    public async Task ATricklingUpload_IsCutOffWith426_AndNothingIsStored()
    {
        var time = new FakeTimeProvider();
        await using var server = await TestServer.StartAsync(
            o => (o.MinDataRateBytesPerSecond, o.MinDataRateWindow, o.DataConnectionTimeout, o.LoginFailureDelay) =
                (100, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), TimeSpan.Zero),
            time: time);
        await using var c = await RawFtpClient.LoginAsync(server.Port);

        // At full speed the same settings change nothing.
        Assert.Equal(226, (await c.UploadAsync("STOR fast.bin", new byte[1_000_000])).Code);

        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR slow.bin", 150);
        WireReply? final = null;
        for (var sent = 1; final is null && sent < 30; sent++)
        {
            // One byte every 20 s: never idle for the 30 s data timeout, but far below 100 bytes/s. STAT tells
            // when the server has read it, so the clock only moves while the server waits for the client.
            try
            {
                await data.SendAsync(new byte[1]);
            }
            catch (SocketException)
            {
                break; // cut off: the server closed the data connection
            }

            var expected = $", {sent} bytes";
            await Poll.UntilAsync(
                async () =>
                {
                    var reply = await c.SendAsync("STAT");
                    if (reply.Code == 426)
                    {
                        final = reply;
                        await c.ReadReplyAsync(); // STAT's own reply follows
                        return true;
                    }

                    return reply.Text.Contains(expected, StringComparison.Ordinal);
                },
                "the byte received");
            for (var second = 0; second < 20 && final is null; second++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        final ??= await c.ReadReplyAsync();
        Assert.Equal(426, final.Code);
        Assert.Contains("minimum data rate", final.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(server.Root.File("slow.bin")));
        Assert.True(time.GetUtcNow() - time.Start <= TimeSpan.FromMinutes(3), "cut off within a few windows");
        Assert.Single(Directory.GetFiles(server.Root.Path)); // fast.bin only: no temporary file left either
    }

    [Fact]
    public async Task PassivePorts_AreHandedOutInNoPredictableOrder()
    {
        await using var server = await TestServer.StartAsync(o => o.PassivePortRange = "41000-41999");
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        var ports = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            var reply = await c.ExpectAsync("EPSV", 229);
            ports.Add(int.Parse(reply.Message.Split('|')[3], System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.All(ports, p => Assert.InRange(p, 41000, 41999));
        var steps = ports.Zip(ports.Skip(1), (a, b) => b - a).ToList();
        Assert.True(steps.Distinct().Count() > 10, "consecutive ports differ by varying steps: " + string.Join(",", ports));
        Assert.True(steps.Count(step => step == 1) < 3, "ports are not handed out in sequence: " + string.Join(",", ports));
    }

    [Fact]
    public async Task APassiveListener_TakesOneConnection_ThenCloses()
    {
        await using var server = await TestServer.StartAsync(o => o.PassivePortRange = "42000-42099");
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

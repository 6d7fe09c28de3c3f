using System.Net;
using FtpGateway.Ftp;
using FtpGateway.Ftp.State;
using FtpGateway.Ftp.Users;
using FtpGateway.State.Redis;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Two gateways (in this process, each with its own connection to the store, as two pods have) sharing Debian's
/// redis-server through State:Redis: failed logins, bans, unbans, session limits, the session registry, leases of a
/// gateway that stops renewing them, and what happens while Redis is down.
/// </summary>
public sealed class SharedStateTests
{
    private static RedisFleetState Fleet(RedisServer redis, string gateway, string prefix, TimeSpan? leaseTtl = null, TimeSpan? renewEvery = null) =>
        RedisFleetState.Connect(new RedisStateOptions { Configuration = redis.Configuration, KeyPrefix = prefix }, gateway, TimeProvider.System, NullLoggerFactory.Instance, leaseTtl, renewEvery);

    private sealed class Pair(RedisFleetState fleetA, RedisFleetState fleetB, TestServer a, TestServer b) : IAsyncDisposable
    {
        public TestServer A => a;

        public TestServer B => b;

        public RedisFleetState FleetA => fleetA;

        public RedisFleetState FleetB => fleetB;

        public async ValueTask DisposeAsync()
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
            await fleetA.DisposeAsync();
            await fleetB.DisposeAsync();
        }
    }

    private static async Task<Pair> StartPairAsync(RedisServer redis, Action<FtpServerOptions>? configure = null, UserDirectory? users = null)
    {
        var prefix = "t" + Guid.NewGuid().ToString("N")[..8] + ":";
        var fleetA = Fleet(redis, "gw-0", prefix);
        var fleetB = Fleet(redis, "gw-1", prefix);
        await Poll.UntilAsync(() => fleetA.IsAvailable && fleetB.IsAvailable, "both gateways connected to Redis");
        void Security(FtpGateway.Ftp.Security.SecurityOptions s)
        {
            s.Bans.MaxFailures = 4;
            s.Bans.Window = TimeSpan.FromMinutes(5);
            s.Bans.Duration = TimeSpan.FromMinutes(10);
        }

        var a = await TestServer.StartAsync(configure, security: Security, users: users, fleet: fleetA);
        var b = await TestServer.StartAsync(configure, security: Security, users: users, fleet: fleetB);
        return new Pair(fleetA, fleetB, a, b);
    }

    private static async Task FailLoginAsync(int port)
    {
        await using var c = await RawFtpClient.ConnectAsync(port);
        Assert.Equal(220, c.Greeting.Code);
        await c.ExpectAsync("USER alice", 331);
        var reply = await c.SendAsync("PASS wrong");
        Assert.Contains(reply.Code, new[] { 530, 421 });
    }

    [Fact]
    public async Task FailedLogins_SpreadOverTwoGateways_BanTheClientAtBoth_AndAnUnbanOnOneLiftsItAtBoth()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var pair = await StartPairAsync(redis);
        for (var i = 0; i < 4; i++)
        {
            await FailLoginAsync(i % 2 == 0 ? pair.A.Port : pair.B.Port); // 2 here, 2 there: neither would ban alone
        }

        await Poll.UntilAsync(() => pair.A.ActiveBans == 1 && pair.B.ActiveBans == 1, "the ban on both gateways", TimeSpan.FromSeconds(2));
        foreach (var port in new[] { pair.A.Port, pair.B.Port })
        {
            await using var refused = await RawFtpClient.ConnectAsync(port);
            Assert.Equal(421, refused.Greeting.Code);
        }

        var bans = await pair.A.Server.Context.FleetBans.InForceAsync(CancellationToken.None);
        var ban = Assert.Single(bans);
        Assert.Equal("127.0.0.1", ban.Client);
        Assert.InRange(ban.Remaining, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));

        // An operator lifts it on gateway B: gateway A lets the client in again within 2 s.
        Assert.True(await pair.B.Server.Context.FleetBans.LiftAsync("127.0.0.1", CancellationToken.None));
        await Poll.UntilAsync(() => pair.A.ActiveBans == 0 && pair.B.ActiveBans == 0, "the unban on both gateways", TimeSpan.FromSeconds(2));
        await using var again = await RawFtpClient.LoginAsync(pair.A.Port);
        Assert.Empty(await pair.A.Server.Context.FleetBans.InForceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AGatewayThatMissedAnUnban_LiftsItsBanWhenItIsBack_InsteadOfBringingItBack()
    {
        await using var redis = await RedisServer.StartAsync();
        var prefix = "t" + Guid.NewGuid().ToString("N")[..8] + ":";
        var proxy = new TcpProxy(redis.Port);
        var proxyPort = proxy.Port;
        await using var fleetA = Fleet(redis, "gw-0", prefix);
        await using var fleetB = RedisFleetState.Connect(
            new RedisStateOptions { Configuration = redis.Configuration.Replace($":{redis.Port},", $":{proxyPort},", StringComparison.Ordinal), KeyPrefix = prefix },
            "gw-1", TimeProvider.System, NullLoggerFactory.Instance);
        await Poll.UntilAsync(() => fleetA.IsAvailable && fleetB.IsAvailable, "both gateways connected to Redis");
        static void Security(FtpGateway.Ftp.Security.SecurityOptions s) => s.Bans.MaxFailures = 2;
        await using var a = await TestServer.StartAsync(security: Security, fleet: fleetA);
        await using var b = await TestServer.StartAsync(security: Security, fleet: fleetB);
        await FailLoginAsync(a.Port);
        await FailLoginAsync(b.Port);
        await Poll.UntilAsync(() => a.ActiveBans == 1 && b.ActiveBans == 1, "the ban on both gateways");

        // Gateway B loses Redis; an operator lifts the ban on gateway A meanwhile: B never hears of it.
        proxy.Cut();
        await Poll.UntilAsync(() => !fleetB.IsAvailable, "gateway B without Redis");
        Assert.True(await a.Server.Context.FleetBans.LiftAsync("127.0.0.1", CancellationToken.None));
        Assert.Equal(0, a.ActiveBans);
        Assert.Equal(1, b.ActiveBans);

        // B is back: it does not bring the lifted ban back to the fleet, it lifts its own.
        await using var again = new TcpProxy(redis.Port, proxyPort);
        await Poll.UntilAsync(() => fleetB.IsAvailable, "gateway B reconnected", TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(() => b.ActiveBans == 0, "the missed unban taken over by gateway B", TimeSpan.FromSeconds(5));
        Assert.Equal(0, a.ActiveBans);
        Assert.Empty(await fleetA.BansAsync(CancellationToken.None));
        await proxy.DisposeAsync();
    }

    [Fact]
    public async Task AUsersMaxSessions_CountsSessionsOnEveryGateway_AndAnEndedSessionFreesItsPlace()
    {
        await using var redis = await RedisServer.StartAsync();
        var users = new UserDirectory([new UserOptions { Name = "cam", Password = "cam-pw", MaxSessions = 2 }], new AnonymousOptions());
        await using var pair = await StartPairAsync(redis, users: users);
        var first = await RawFtpClient.LoginAsync(pair.A.Port, "cam", "cam-pw");
        await using var second = await RawFtpClient.LoginAsync(pair.A.Port, "cam", "cam-pw");

        await using (var third = await RawFtpClient.ConnectAsync(pair.B.Port))
        {
            await third.ExpectAsync("USER cam", 331);
            var refused = await third.SendAsync("PASS cam-pw");
            Assert.Equal(421, refused.Code);
            Assert.Contains("Too many sessions for user cam", refused.Text, StringComparison.Ordinal);
        }

        await first.ExpectAsync("QUIT", 221);
        await first.DisposeAsync();
        await Poll.UntilAsync(async () => await pair.FleetB.CountLeasesAsync(UserSessions.LeaseScope("cam"), CancellationToken.None) == 1, "the lease of the ended session given back");
        await using var now = await RawFtpClient.LoginAsync(pair.B.Port, "cam", "cam-pw");
    }

    [Fact]
    public async Task MaxSessionsPerAddress_CountsConnectionsToEveryGateway()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var pair = await StartPairAsync(redis, o => o.MaxSessionsPerAddress = 2);
        await using var one = await RawFtpClient.ConnectAsync(pair.A.Port);
        await using var two = await RawFtpClient.ConnectAsync(pair.B.Port);
        Assert.Equal(220, one.Greeting.Code);
        Assert.Equal(220, two.Greeting.Code);
        await using var three = await RawFtpClient.ConnectAsync(pair.A.Port);
        Assert.Equal(421, three.Greeting.Code);
        Assert.Contains("Too many connections from your address", three.Greeting.Text, StringComparison.Ordinal);

        // From another address the limit is its own.
        await using var other = await RawFtpClient.ConnectAsync(pair.A.Port, from: IPAddress.Parse("127.0.0.2"));
        Assert.Equal(220, other.Greeting.Code);
    }

    [Fact]
    public async Task TheSessionRegistry_ShowsEveryGatewaysSessions_WithUserAndRunningTransfer_AndForgetsEndedOnes()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var pair = await StartPairAsync(redis);
        await using var onA = await RawFtpClient.LoginAsync(pair.A.Port);
        var onB = await RawFtpClient.LoginAsync(pair.B.Port);

        // A transfer that runs on gateway B: the registry shows its command and path.
        var data = await onB.OpenPassiveAsync();
        await onB.ExpectAsync("STOR clip.mp4", 150);
        await data.SendAsync(new byte[64 * 1024]);
        await Poll.UntilAsync(async () =>
        {
            var sessions = await pair.FleetA.SessionsAsync(CancellationToken.None);
            return sessions.Count == 2
                && sessions.Any(s => s.Gateway == "gw-0" && s.User == TestServer.UserName && s.Client == "127.0.0.1")
                && sessions.Any(s => s.Gateway == "gw-1" && s.Command == "STOR" && s.Path == "/clip.mp4");
        }, "both sessions and the running STOR in the registry", TimeSpan.FromSeconds(5));

        data.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        data.Dispose();
        Assert.Equal(226, (await onB.ReadReplyAsync()).Code);
        await onB.ExpectAsync("QUIT", 221);
        await onB.DisposeAsync();
        await Poll.UntilAsync(async () => (await pair.FleetA.SessionsAsync(CancellationToken.None)).Count == 1, "the ended session gone from the registry");
    }

    [Fact]
    public async Task AnOperatorEndsASessionOfAnotherGateway_AndTheUserRecordIsTheFleets()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var pair = await StartPairAsync(redis);
        await using var onB = await RawFtpClient.LoginAsync(pair.B.Port);
        Assert.Equal(226, (await onB.UploadAsync("STOR x.bin", new byte[321])).Code);
        string? id = null;
        await Poll.UntilAsync(async () =>
        {
            id = (await pair.A.Server.ListSessionsAsync(CancellationToken.None)).Sessions.SingleOrDefault(s => s.Gateway == "gw-1" && s.User is not null)?.Id;
            return id is not null;
        }, "B's session in the fleet's registry, seen from A");

        // Asked on gateway A, ended on gateway B, which runs it.
        Assert.Equal("gw-1", await pair.A.Server.EndSessionAsync(id!, now: false, CancellationToken.None));
        var closing = await onB.ReadReplyAsync();
        Assert.Equal(421, closing.Code);
        Assert.Contains("ended by the operator", closing.Text, StringComparison.Ordinal);
        Assert.Null(await pair.A.Server.EndSessionAsync("no-such-session", now: false, CancellationToken.None));

        // The user's activity on gateway B, as gateway A tells it.
        await Poll.UntilAsync(async () => (await pair.A.Server.Context.UserRecords.GetAsync(TestServer.UserName, CancellationToken.None)).Record?.UploadsToday == 1, "B's upload in the fleet's user record");
        var (record, fleet) = await pair.A.Server.Context.UserRecords.GetAsync(TestServer.UserName, CancellationToken.None);
        Assert.True(fleet);
        Assert.Equal(321, record!.BytesToday);
        Assert.NotNull(record.LastLogin);
    }

    [Fact]
    public async Task TheLeasesOfAGatewayThatStopsRenewingThem_Expire_AndRenewedOnesStay()
    {
        await using var redis = await RedisServer.StartAsync();
        var prefix = "t" + Guid.NewGuid().ToString("N")[..8] + ":";
        await using var dead = Fleet(redis, "gw-dead", prefix, leaseTtl: TimeSpan.FromSeconds(2), renewEvery: TimeSpan.FromHours(1));
        await using var alive = Fleet(redis, "gw-alive", prefix, leaseTtl: TimeSpan.FromSeconds(2), renewEvery: TimeSpan.FromMilliseconds(250));
        await Poll.UntilAsync(() => dead.IsAvailable && alive.IsAvailable, "connected");

        // The store's answer, Taken. A call in the moment after the connection came up can still fail (in one CI run
        // the first came back Unchecked: the gateway decides alone, as in an outage); the lease is asked again, as a
        // holder that keeps its lease, until the store answers.
        await Poll.UntilAsync(async () => await dead.TryTakeLeaseAsync("user:cam", "s1", 1, CancellationToken.None) == LeaseResult.Taken, "the store to give the dead gateway its lease");
        await Poll.UntilAsync(async () => await alive.TryTakeLeaseAsync("user:nvr", "s2", 1, CancellationToken.None) == LeaseResult.Taken, "the store to give the living gateway its lease");
        Assert.Equal(LeaseResult.Full, await alive.TryTakeLeaseAsync("user:cam", "s3", 1, CancellationToken.None));

        // The dead gateway renews nothing: its lease is gone after its time; the living one's stays.
        await Poll.UntilAsync(async () => await alive.TryTakeLeaseAsync("user:cam", "s3", 1, CancellationToken.None) == LeaseResult.Taken, "the dead gateway's lease expired");
        await Task.Delay(3000); // longer than the lease's time: only renewal (8 of them by now) keeps it
        Assert.Equal(LeaseResult.Full, await dead.TryTakeLeaseAsync("user:nvr", "s4", 1, CancellationToken.None));
    }

    [Fact]
    public async Task WhileRedisIsDown_LoginsAndTransfersWork_BansAreLocal_AndABanMadeMeanwhileIsSharedWhenItIsBack()
    {
        await using var redis = await RedisServer.StartAsync();
        var users = new UserDirectory([new UserOptions { Name = "cam", Password = "cam-pw", MaxSessions = 1 }, new UserOptions { Name = TestServer.UserName, Password = TestServer.Password }], new AnonymousOptions());
        await using var pair = await StartPairAsync(redis, users: users);
        await using var running = await RawFtpClient.LoginAsync(pair.A.Port);

        await redis.StopAsync();
        await Poll.UntilAsync(() => !pair.FleetA.IsAvailable && !pair.FleetB.IsAvailable, "both gateways noticed Redis is gone");

        // Logins, limits and transfers go on, decided by each gateway alone.
        Assert.Equal(226, (await running.UploadAsync("STOR during-outage.bin", new byte[10_000])).Code);
        await using (var cam = await RawFtpClient.LoginAsync(pair.B.Port, "cam", "cam-pw"))
        {
            Assert.Equal(226, (await cam.UploadAsync("STOR cam.bin", [1, 2, 3])).Code);
        }

        // Four failures on gateway A ban the client there only.
        for (var i = 0; i < 4; i++)
        {
            await FailLoginAsync(pair.A.Port);
        }

        Assert.Equal(1, pair.A.ActiveBans);
        Assert.Equal(0, pair.B.ActiveBans);

        // Redis is back (empty, as after a restart without persistence): the ban made meanwhile reaches gateway B.
        await redis.StartAgainAsync();
        await Poll.UntilAsync(() => pair.FleetA.IsAvailable && pair.FleetB.IsAvailable, "both gateways reconnected", TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(() => pair.B.ActiveBans == 1, "the ban shared after Redis came back", TimeSpan.FromSeconds(5));
        await using var refused = await RawFtpClient.ConnectAsync(pair.B.Port);
        Assert.Equal(421, refused.Greeting.Code);
    }
}

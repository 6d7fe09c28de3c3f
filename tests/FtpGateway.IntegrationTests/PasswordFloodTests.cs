using System.Net;
using FtpGateway.Ftp;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// A flood of wrong passwords at the real cost of a check (300,000 PBKDF2 iterations) delays only the flood: checks
/// are bounded and in turn per address. Seconds of CPU by nature, so here rather than among the unit tests (which
/// check the turns themselves: PasswordChecksTests, ClientTurnsTests).
/// </summary>
public sealed class PasswordFloodTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Neighbour = IPAddress.Parse("127.0.0.3");

    private static Action<FtpServerOptions> NoDelay => o => (o.LoginFailureDelay, o.MaxLoginFailures) = (TimeSpan.Zero, 3);

    [Fact]
    public async Task AFloodOfWrongPasswords_DelaysOnlyTheFlood()
    {
        // Regression: each failed login ran its key derivation on the thread pool, so 100 at once stalled every
        // session (a NOOP took 5.3 s). Now a bounded number run at once, on their own threads, in turn per address.
        // Counted in checks, not seconds: what matters is what a NOOP or a login waits for.
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

        // A login from another address waits for one check in its turn, not for the whole flood: counted from the
        // moment its PASS goes out, few of the flood's checks end before it is in.
        var checksWhileOtherWaited = -1;
        var other = Task.Run(async () =>
        {
            await using var o = await RawFtpClient.ConnectAsync(server.Port, from: IPAddress.Parse("127.0.0.4"));
            await o.ExpectAsync("USER hashed", 331);
            var atPass = answered;
            await o.ExpectAsync("PASS right", 230);
            checksWhileOtherWaited = answered - atPass;
        });

        // A logged-in session keeps answering while the flood runs: a NOOP never waits for the flood's queue (dozens
        // of checks); a few may end while it is on its way on a busy machine.
        var mostChecksDuringANoop = 0;
        for (var i = 0; i < 20 && answered < 55; i++)
        {
            var before = answered;
            await working.ExpectAsync("NOOP", 200);
            mostChecksDuringANoop = Math.Max(mostChecksDuringANoop, answered - before);
        }

        await other;
        Assert.All(await Task.WhenAll(flood), code => Assert.Equal(530, code));
        Assert.True(mostChecksDuringANoop < 10, $"{mostChecksDuringANoop} of the flood's checks ended while one NOOP waited");
        Assert.True(checksWhileOtherWaited < 10, $"the other address logged in only after {checksWhileOtherWaited} of the flood's checks");
    }
}

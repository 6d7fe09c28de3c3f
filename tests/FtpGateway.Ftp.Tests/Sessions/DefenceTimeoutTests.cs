using System.Net.Sockets;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Sessions;

/// <summary>Connections that hold resources without using them: one that never logs in, an upload that trickles.</summary>
public sealed class DefenceTimeoutTests
{
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
                // The clock goes just past the timeout and then waits: a busy machine that answers late must not
                // look like a timeout that fired late.
                if (time.GetUtcNow() - time.Start < TimeSpan.FromSeconds(66)) // the timeout and one check period (5 s)
                {
                    time.Advance(TimeSpan.FromSeconds(1));
                }

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
}

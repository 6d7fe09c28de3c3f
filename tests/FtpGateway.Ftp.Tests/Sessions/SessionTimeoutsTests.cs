using System.Security.Cryptography;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Sessions;

/// <summary>
/// Idle and data timeouts over real TCP, on a fake clock: the test moves time on, so no test waits for a real
/// timeout and none can fail because the machine was slow.
/// </summary>
public sealed class SessionTimeoutsTests
{
    private static readonly TimeSpan DataTimeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private Task<TestServer> StartAsync(Action<FtpServerOptions>? configure = null, Func<Storage.IStorageProvider, Storage.IStorageProvider>? wrap = null) =>
        TestServer.StartAsync(
            o =>
            {
                o.LoginFailureDelay = TimeSpan.Zero;
                o.DataConnectionTimeout = DataTimeout;
                configure?.Invoke(o);
            },
            wrap,
            time: _time);

    /// <summary>Moves the clock on in steps until the next reply arrives (the server's timers fire on the way).</summary>
    private async Task<WireReply> ReplyAfterAdvancingAsync(RawFtpClient client, TimeSpan step)
    {
        var reply = client.ReadReplyAsync();
        await Poll.UntilAsync(
            () =>
            {
                if (!reply.IsCompleted)
                {
                    _time.Advance(step);
                }

                return reply.IsCompleted;
            },
            "a reply while the clock moves on");
        return await reply;
    }

    [Fact]
    public async Task ASessionIdleJustUnderTheTimeout_Stays_AndOneIdlePastItGets421AndIsClosed()
    {
        await using var server = await StartAsync(o => o.IdleTimeout = TimeSpan.FromMinutes(10));
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        _time.Advance(TimeSpan.FromMinutes(9));
        await c.ExpectAsync("NOOP", 200);
        var reply = await ReplyAfterAdvancingAsync(c, TimeSpan.FromMinutes(1));
        Assert.Equal(421, reply.Code);
        Assert.True(_time.GetUtcNow() - _time.Start >= TimeSpan.FromMinutes(19));
        Assert.True(await c.IsClosedByServerAsync());
    }

    [Fact]
    public async Task SiteIdle_GivesOneSessionALongerIdleTimeout_WithinTheConfiguredBound()
    {
        await using var server = await StartAsync(o => (o.IdleTimeout, o.MaxIdleTimeout) = (TimeSpan.FromMinutes(10), TimeSpan.FromHours(1)));
        await using var patient = await RawFtpClient.LoginAsync(server.Port);
        await patient.ExpectAsync("SITE IDLE 3601", 501);
        await patient.ExpectAsync("SITE IDLE 3600", 200);
        await using var other = await RawFtpClient.LoginAsync(server.Port);
        Assert.Equal(421, (await ReplyAfterAdvancingAsync(other, TimeSpan.FromMinutes(1))).Code); // the default applies to others
        _time.Advance(TimeSpan.FromMinutes(30));
        await patient.ExpectAsync("NOOP", 200);
        Assert.Equal(421, (await ReplyAfterAdvancingAsync(patient, TimeSpan.FromMinutes(5))).Code);
        Assert.True(_time.GetUtcNow() - _time.Start >= TimeSpan.FromMinutes(90));
    }

    [Fact]
    public async Task ADataConnectionThatNeverArrives_Is425AfterTheTimeout_AndTheSessionGoesOn()
    {
        await using var server = await StartAsync();
        File.WriteAllText(server.Root.File("f"), "x");
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        await c.ExpectAsync("EPSV", 229);
        await c.ExpectAsync("RETR f", 150);
        Assert.Equal(425, (await ReplyAfterAdvancingAsync(c, DataTimeout)).Code);
        await c.ExpectAsync("NOOP", 200);
    }

    [Fact]
    public async Task AStalledUpload_TimesOut_With426_AndCommitsNothing()
    {
        await using var server = await StartAsync();
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR stalled.bin", 150);
        await data.SendAsync(new byte[1000]); // then nothing, and no close
        Assert.Equal(426, (await ReplyAfterAdvancingAsync(c, TimeSpan.FromSeconds(5))).Code);
        Assert.False(File.Exists(server.Root.File("stalled.bin")));
        Assert.Empty(Directory.GetFiles(server.Root.Path));
    }

    [Fact]
    public async Task ASlowStore_PausingLongerThanTheDataTimeout_DoesNotAbortAHealthyUpload()
    {
        // Regression: the watchdog counted backpressure (the store not reading) as the client being idle.
        var gate = new TaskCompletionSource();
        FaultyStorage? faulty = null;
        await using var server = await StartAsync(wrap: s => faulty = new FaultyStorage(s) { PauseAfterFirstRead = gate });
        var content = RandomNumberGenerator.GetBytes(2_000_000);
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        var upload = c.UploadAsync("STOR slow-store.bin", content);
        await faulty!.Paused.Task.WaitAsync(TimeSpan.FromSeconds(20));
        for (var i = 0; i < 18; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5)); // three data timeouts while the store does not read
        }

        gate.SetResult();
        Assert.Equal(226, (await upload).Code);
        Assert.Equal(content, File.ReadAllBytes(server.Root.File("slow-store.bin")));
    }
}

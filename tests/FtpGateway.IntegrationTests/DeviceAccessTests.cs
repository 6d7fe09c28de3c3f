using System.Net;
using FtpGateway.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Devices on the first try without <c>Full</c>: anonymous drop boxes for cameras that can only log in as
/// anonymous; a WriteOnly user whose "Test" button (store, then delete or rename; make a folder, then remove it)
/// passes, with nothing of anyone else's reachable; guardrails for looping devices at their edges (a fake clock).
/// </summary>
public sealed class DeviceAccessTests
{
    private static Task<Gateway> StartAsync(Dictionary<string, string?> settings, FakeTimeProvider? clock = null)
    {
        if (clock is not null)
        {
            // The clock jumps minutes and days ahead: the sessions' idle timeouts must not count them.
            (settings["Ftp:IdleTimeout"], settings["Ftp:MaxIdleTimeout"]) = ("3.00:00:00", "3.00:00:00");
        }

        return Gateway.StartAsync(settings, clock is null ? null : b => b.Services.AddSingleton<TimeProvider>(clock));
    }

    [Fact]
    public async Task AnAnonymousDropBox_TakesFilesFromItsCamerasOnly_AndShowsNothing()
    {
        await using var gateway = await StartAsync(new()
        {
            ["Anonymous:Enabled"] = "true",
            ["Anonymous:Permissions"] = "WriteOnly",
            ["Anonymous:AllowedAddresses:0"] = "127.0.0.1/32",
            ["Anonymous:AllowedAddresses:1"] = "127.0.0.3/32",
            ["Anonymous:Root"] = "/dropbox",
            ["Anonymous:CreateDirectories"] = "true",
            ["Anonymous:OnExistingFile"] = "Rename",
        });
        await using (var camera = await RawFtpClient.LoginAsync(gateway.Port, "anonymous", "camera@", from: IPAddress.Loopback))
        {
            Assert.Equal(226, (await camera.UploadAsync("STOR 2026-12-06/snap.jpg", [1, 2, 3])).Code);
            Assert.Equal(226, (await camera.UploadAsync("STOR 2026-12-06/snap.jpg", [4, 5, 6])).Code);
            Assert.Equal(550, (await camera.DownloadAsync("RETR 2026-12-06/snap.jpg")).Final.Code);
            Assert.Equal(550, (await camera.DownloadAsync("LIST")).Final.Code);
            Assert.Equal(226, (await camera.UploadAsync("STOR test.txt", [7])).Code);
        }

        // Anonymous cameras share a name, not their files: another camera cannot delete this one's Test file.
        await using (var other = await RawFtpClient.LoginAsync(gateway.Port, "anonymous", "camera@", from: IPAddress.Parse("127.0.0.3")))
        {
            await other.ExpectAsync("DELE test.txt", 550);
        }

        await using (var same = await RawFtpClient.LoginAsync(gateway.Port, "anonymous", "camera@", from: IPAddress.Loopback))
        {
            await same.ExpectAsync("DELE test.txt", 250);
        }

        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(gateway.Root.Path, "dropbox", "2026-12-06", "snap.jpg")));
        Assert.Equal([4, 5, 6], await File.ReadAllBytesAsync(Path.Combine(gateway.Root.Path, "dropbox", "2026-12-06", "snap.1.jpg")));

        // From another address, as if there were no anonymous login.
        await using var stranger = await RawFtpClient.ConnectAsync(gateway.Port, IPAddress.Loopback, from: IPAddress.Parse("127.0.0.2"));
        await stranger.ExpectAsync("USER anonymous", 331);
        await stranger.ExpectAsync("PASS x@", 530);

        // A drop box open to everyone is refused at start-up, naming the key.
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new() { ["Anonymous:Enabled"] = "true", ["Anonymous:Permissions"] = "WriteOnly" }));
        Assert.Contains("Anonymous:AllowedAddresses:0", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTestButtons_PassForAWriteOnlyUser_ForItsOwnFilesOnly_AndOnlyForAWhile()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartAsync(
            new()
            {
                ["Users:1:Name"] = "cam",
                ["Users:1:Password"] = "cam-pw",
                ["Users:1:Permissions"] = "WriteOnly",
                ["Users:2:Name"] = "strict",
                ["Users:2:Password"] = "strict-pw",
                ["Users:2:Permissions"] = "WriteOnly",
                ["Users:2:OwnUploadsEditableFor"] = "00:00:00",
            },
            clock);
        await using var cam = await RawFtpClient.LoginAsync(gateway.Port, "cam", "cam-pw");

        // motionEye, Digta: a folder and a file in it, then both removed.
        await cam.ExpectAsync("MKD motioneye_test", 257);
        Assert.Equal(226, (await cam.UploadAsync("STOR motioneye_test/test.txt", [1])).Code);
        await cam.ExpectAsync("DELE motioneye_test/test.txt", 250);
        await cam.ExpectAsync("RMD motioneye_test", 250);

        // Duplicati: a file stored and deleted.
        Assert.Equal(226, (await cam.UploadAsync("STOR duplicati-access-privileges-test.tmp", [2])).Code);
        await cam.ExpectAsync("DELE duplicati-access-privileges-test.tmp", 250);

        // Intellinet: stored under a temporary name, then renamed to its final one (and still the user's).
        Assert.Equal(226, (await cam.UploadAsync("STOR upload.tmp", [3])).Code);
        await cam.ExpectAsync("RNFR upload.tmp", 350);
        await cam.ExpectAsync("RNTO snapshot.jpg", 250);
        Assert.True(File.Exists(Path.Combine(gateway.Root.Path, "snapshot.jpg")));

        // Nothing of anyone else's: not deleted, not renamed, not renamed onto, not read, not listed.
        await using (var admin = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password))
        {
            Assert.Equal(226, (await admin.UploadAsync("STOR evidence.mp4", [9, 9])).Code);
        }

        await cam.ExpectAsync("DELE evidence.mp4", 550);
        await cam.ExpectAsync("RNFR evidence.mp4", 550);

        // Overwriting or appending to someone else's file does not make it the user's.
        Assert.Equal(226, (await cam.UploadAsync("APPE evidence.mp4", [8])).Code);
        await cam.ExpectAsync("DELE evidence.mp4", 550);
        Assert.Equal(226, (await cam.UploadAsync("STOR evidence.mp4", [9, 9])).Code);
        await cam.ExpectAsync("DELE evidence.mp4", 550);
        await cam.ExpectAsync("RNFR snapshot.jpg", 350);
        await cam.ExpectAsync("RNTO evidence.mp4", 550);
        Assert.Equal(550, (await cam.DownloadAsync("RETR evidence.mp4")).Final.Code);
        Assert.Equal(550, (await cam.DownloadAsync("LIST")).Final.Code);
        Assert.Equal([9, 9], await File.ReadAllBytesAsync(Path.Combine(gateway.Root.Path, "evidence.mp4")));

        // After ownUploadsEditableFor (10 minutes by default) its own file is fixed too.
        Assert.Equal(226, (await cam.UploadAsync("STOR late.jpg", [4])).Code);
        clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        await cam.ExpectAsync("DELE late.jpg", 550);
        await cam.ExpectAsync("DELE snapshot.jpg", 550);

        // With 00:00:00, never.
        await using var strict = await RawFtpClient.LoginAsync(gateway.Port, "strict", "strict-pw");
        Assert.Equal(226, (await strict.UploadAsync("STOR mine.jpg", [5])).Code);
        await strict.ExpectAsync("DELE mine.jpg", 550);
    }

    [Fact]
    public async Task Guardrails_RefuseALoopingDevice_AtTheirEdges()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 10, 0, 5, TimeSpan.Zero));
        await using var gateway = await StartAsync(
            new()
            {
                ["Users:1:Name"] = "looper",
                ["Users:1:Password"] = "looper-pw",
                ["Users:1:MaxFilesPerMinute"] = "3",
                ["Users:1:MaxFilesPerDay"] = "5",
                ["Users:2:Name"] = "heavy",
                ["Users:2:Password"] = "heavy-pw",
                ["Users:2:MaxBytesPerDay"] = "1000",
            },
            clock);
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, "looper", "looper-pw");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(226, (await c.UploadAsync($"STOR f{i}.jpg", [1])).Code);
        }

        var busy = await c.UploadAsync("STOR f3.jpg", [1]); // the 4th in one minute
        Assert.Equal(450, busy.Code);
        Assert.Contains("try again in a minute", busy.Text, StringComparison.Ordinal);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(226, (await c.UploadAsync("STOR f3.jpg", [1])).Code);
        Assert.Equal(226, (await c.UploadAsync("STOR f4.jpg", [1])).Code); // the 5th of the day
        var full = await c.UploadAsync("STOR f5.jpg", [1]);
        Assert.Equal(552, full.Code);
        Assert.False(File.Exists(Path.Combine(gateway.Root.Path, "f5.jpg")));
        clock.Advance(TimeSpan.FromDays(1)); // a new UTC day
        Assert.Equal(226, (await c.UploadAsync("STOR f5.jpg", [1])).Code);

        // Bytes per day: an upload that would pass the limit stores nothing; up to it, stored.
        await using var h = await RawFtpClient.LoginAsync(gateway.Port, "heavy", "heavy-pw");
        Assert.Equal(226, (await h.UploadAsync("STOR a.bin", new byte[600])).Code);
        Assert.Equal(552, (await h.UploadAsync("STOR b.bin", new byte[401])).Code);
        Assert.False(File.Exists(Path.Combine(gateway.Root.Path, "b.bin")));
        Assert.Equal(226, (await h.UploadAsync("STOR c.bin", new byte[400])).Code);
        Assert.Equal(552, (await h.UploadAsync("STOR d.bin", [1])).Code);
    }

    [Fact]
    public async Task MarkerFiles_AreStoredAndAudited_ButKeptOutOfEvents()
    {
        await using var webhook = new WebhookEvents();
        using var work = new TempDirectory();
        await using var gateway = await StartAsync(new()
        {
            ["Events:Webhooks:0:Url"] = webhook.Url,
            ["Events:IgnorePaths:0"] = "**/DVRWorkDirectory",
            ["Audit:File"] = work.File("audit.jsonl"),
        });
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        await c.ExpectAsync("MKD cam1", 257);
        Assert.Equal(226, (await c.UploadAsync("STOR cam1/DVRWorkDirectory", [0])).Code);
        Assert.Equal(226, (await c.UploadAsync("STOR cam1/img.jpg", [1])).Code);
        await Poll.UntilAsync(() => webhook.Received.Any(e => e.GetProperty("subject").GetString() == "/cam1/img.jpg"), "the upload's event");
        await Poll.UntilAsync(() => File.Exists(work.File("audit.jsonl")) && File.ReadAllLines(work.File("audit.jsonl")).Length >= 2, "both audit lines");
        var events = webhook.Received;
        Assert.DoesNotContain(events, e => e.GetProperty("subject").GetString()!.EndsWith("DVRWorkDirectory", StringComparison.Ordinal));

        Assert.True(File.Exists(Path.Combine(gateway.Root.Path, "cam1", "DVRWorkDirectory")));
        Assert.Contains(File.ReadAllLines(work.File("audit.jsonl")), l => l.Contains("/cam1/DVRWorkDirectory", StringComparison.Ordinal));
    }
}

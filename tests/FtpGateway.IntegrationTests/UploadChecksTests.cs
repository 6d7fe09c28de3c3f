using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Checks in the stream and a verdict before commit, on local disk: file types by name (553 before 150), the content
/// type and a minimum size (550 after the data), and clamd's verdict (Debian's clamd with the tests' own signatures):
/// what fails is never stored, and the device is told why.
/// </summary>
public sealed class UploadChecksTests : IAsyncLifetime
{
    private ClamdServer _clamd = null!;

    public async Task InitializeAsync() => _clamd = await ClamdServer.StartAsync();

    public async Task DisposeAsync() => await _clamd.DisposeAsync();

    private Task<Gateway> StartAsync(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Scanning:Clamd:Address"] = _clamd.Address,
            ["Users:1:Name"] = "scanner",
            ["Users:1:Password"] = "scanner-pw",
            ["Users:1:AllowedFileTypes:0"] = "pdf",
            ["Users:1:AllowedFileTypes:1"] = "jpg",
            ["Users:1:CheckContentType"] = "true",
            ["Users:1:MinUploadBytes"] = "8",
            ["Users:2:Name"] = "unscanned",
            ["Users:2:Password"] = "unscanned-pw",
            ["Users:2:Scan"] = "false",
            ["Users:2:DeniedFileTypes:0"] = "EXE",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return Gateway.StartAsync(all);
    }

    [Fact]
    public async Task AnInfectedUpload_IsRefusedWith550_AndNeverStored_ACleanOneIs_AndTheEventTellsTheSignature()
    {
        await using var webhook = new WebhookEvents();
        await using var gateway = await StartAsync(("Events:Webhooks:0:Url", webhook.Url));
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);

        // EICAR (a hash signature) and a custom body signature deep inside a 2 MiB file: both refused after the data.
        var eicar = await c.UploadAsync("STOR eicar.com", Encoding.ASCII.GetBytes(ClamdServer.Eicar));
        Assert.Equal(550, eicar.Code);
        Assert.Contains("rejected by the content scanner (Eicar-Test-Signature", eicar.Text, StringComparison.Ordinal);
        var hidden = new byte[2 * 1024 * 1024];
        Encoding.ASCII.GetBytes(ClamdServer.CustomMarker).CopyTo(hidden, 1_500_000);
        var marked = await c.UploadAsync("STOR report.bin", hidden);
        Assert.Equal(550, marked.Code);
        Assert.Contains("FtpGateway.Test.Marker", marked.Text, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(gateway.Root.Path, "eicar.com")));
        Assert.False(File.Exists(Path.Combine(gateway.Root.Path, "report.bin")));

        // A clean file of the same size is stored whole.
        Assert.Equal(226, (await c.UploadAsync("STOR clean.bin", new byte[2 * 1024 * 1024])).Code);
        Assert.Equal(2 * 1024 * 1024, new FileInfo(Path.Combine(gateway.Root.Path, "clean.bin")).Length);

        // Events: the rejection with its signature, the failed upload with its reason, the clean one scanned.
        await Poll.UntilAsync(() => webhook.Received.Count >= 5, "the events");
        var events = webhook.Received;
        var rejected = events.Where(e => e.GetProperty("type").GetString() == "ftpgateway.upload.rejected").ToList();
        Assert.Equal(2, rejected.Count);
        Assert.Contains(rejected, e => e.GetProperty("data").GetProperty("signature").GetString()!.StartsWith("Eicar-Test-Signature", StringComparison.Ordinal)
            && e.GetProperty("data").GetProperty("user").GetString() == Gateway.User && e.GetProperty("data").GetProperty("path").GetString() == "/eicar.com"
            && e.GetProperty("subject").GetString() == "/eicar.com");
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "ftpgateway.upload.failed" && e.GetProperty("data").GetProperty("reason").GetString()!.StartsWith("infected", StringComparison.Ordinal));
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "ftpgateway.upload.completed" && e.GetProperty("data").GetProperty("scan").GetString() == "clean");

        // clamd over its unix socket gives the same verdict.
        await using (var overUnix = await Gateway.StartAsync(new Dictionary<string, string?> { ["Scanning:Clamd:Address"] = _clamd.UnixAddress }))
        await using (var u = await RawFtpClient.LoginAsync(overUnix.Port, Gateway.User, Gateway.Password))
        {
            Assert.Equal(550, (await u.UploadAsync("STOR eicar.com", Encoding.ASCII.GetBytes(ClamdServer.Eicar))).Code);
            Assert.Equal(226, (await u.UploadAsync("STOR fine.txt", Encoding.ASCII.GetBytes("fine"))).Code);
        }

        // A user with scan: false is not scanned.
        await using var unscanned = await RawFtpClient.LoginAsync(gateway.Port, "unscanned", "unscanned-pw");
        Assert.Equal(226, (await unscanned.UploadAsync("STOR eicar.txt", Encoding.ASCII.GetBytes(ClamdServer.Eicar))).Code);
    }

    [Fact]
    public async Task AScannerThatIsDown_RejectsWith451ByDefault_OrStoresWithAccept_AndAFileOverItsLimitFollowsOverLimit()
    {
        await using (var rejecting = await StartAsync())
        await using (var accepting = await StartAsync(("Scanning:OnError", "Accept"), ("Scanning:OverLimit", "Accept")))
        {
            // Over clamd's stream limit: refused (550) by default, stored with OverLimit Accept.
            var large = new byte[ClamdServer.StreamLimit + (1024 * 1024)];
            await using (var c = await RawFtpClient.LoginAsync(rejecting.Port, Gateway.User, Gateway.Password))
            {
                var refused = await c.UploadAsync("STOR large.bin", large);
                Assert.Equal(550, refused.Code);
                Assert.Contains("larger than the content scanner takes", refused.Text, StringComparison.Ordinal);
                Assert.False(File.Exists(Path.Combine(rejecting.Root.Path, "large.bin")));
            }

            await using (var c = await RawFtpClient.LoginAsync(accepting.Port, Gateway.User, Gateway.Password))
            {
                Assert.Equal(226, (await c.UploadAsync("STOR large.bin", large)).Code);
            }

            // clamd stopped: 451 (try again) and nothing stored, or stored with OnError Accept.
            await _clamd.StopAsync();
            await using (var c = await RawFtpClient.LoginAsync(rejecting.Port, Gateway.User, Gateway.Password))
            {
                var unavailable = await c.UploadAsync("STOR later.bin", [1, 2, 3]);
                Assert.Equal(451, unavailable.Code);
                Assert.False(File.Exists(Path.Combine(rejecting.Root.Path, "later.bin")));
            }

            await using (var c = await RawFtpClient.LoginAsync(accepting.Port, Gateway.User, Gateway.Password))
            {
                Assert.Equal(226, (await c.UploadAsync("STOR anyway.bin", [1, 2, 3])).Code);
                Assert.True(File.Exists(Path.Combine(accepting.Root.Path, "anyway.bin")));
            }

            await _clamd.StartAgainAsync();
        }
    }

    [Fact]
    public async Task WithAQuarantineTarget_AnInfectedUploadIsKeptThere_WholeAndNamedForItsSender_AndNowhereElse()
    {
        await using var webhook = new WebhookEvents();
        using var quarantine = new TempDirectory();
        await using var gateway = await StartAsync(
            ("Storage:Targets:quarantine:Provider", "FileSystem"),
            ("Storage:Targets:quarantine:FileSystem:Root", quarantine.Path),
            ("Scanning:QuarantineStorage", "quarantine"),
            ("Events:Webhooks:0:Url", webhook.Url));
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        var infected = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(infected);
        Encoding.ASCII.GetBytes(ClamdServer.CustomMarker).CopyTo(infected, 2_500_000);
        var refused = await c.UploadAsync("STOR camera/../evidence.bin", infected);
        Assert.Equal(550, refused.Code);
        Assert.Contains("rejected by the content scanner", refused.Text, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(gateway.Root.Path, "evidence.bin")));
        Assert.Equal(226, (await c.UploadAsync("STOR clean.bin", new byte[1000])).Code);

        // Kept whole in the quarantine target, one file named for its time, user, session and name; the clean one is not there.
        var kept = Assert.Single(Directory.GetFiles(quarantine.Path));
        Assert.Matches($"^[0-9]{{8}}-[0-9]{{6}}-{Gateway.User}-[A-Za-z0-9_-]+-evidence\\.bin$", Path.GetFileName(kept));
        Assert.Equal(infected, await File.ReadAllBytesAsync(kept));

        await Poll.UntilAsync(() => webhook.Received.Any(e => e.GetProperty("type").GetString() == "ftpgateway.upload.rejected"), "the rejection event");
        var events = webhook.Received;
        var rejected = events.Single(e => e.GetProperty("type").GetString() == "ftpgateway.upload.rejected").GetProperty("data");
        Assert.Equal(kept, rejected.GetProperty("quarantine").GetString());

        // A quarantine target that does not exist stops the start, naming the key.
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () => await StartAsync(("Scanning:QuarantineStorage", "nowhere")));
        Assert.Contains("Scanning:QuarantineStorage 'nowhere' is not a storage target", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileTypes_AreRefusedByNameBefore150_TheContentMustMatchItsName_AndTooSmallIsRefused()
    {
        await using var gateway = await StartAsync();
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, "scanner", "scanner-pw");

        // By name, before any data connection is used: 553.
        var exe = await c.SendAsync("STOR setup.exe");
        Assert.Equal(553, exe.Code);
        Assert.Contains("allowed: jpg, pdf", exe.Text, StringComparison.Ordinal);
        Assert.Equal(553, (await c.SendAsync("APPE notes")).Code); // no extension
        await using (var other = await RawFtpClient.LoginAsync(gateway.Port, "unscanned", "unscanned-pw"))
        {
            Assert.Equal(553, (await other.SendAsync("STOR Setup.Exe")).Code); // denied, case-insensitive
        }

        // The content must be what the name says: a text file named .pdf is refused after its data.
        var fake = await c.UploadAsync("STOR invoice.pdf", Encoding.ASCII.GetBytes("MZ this is not a PDF at all"));
        Assert.Equal(550, fake.Code);
        Assert.Contains("is not PDF", fake.Text, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(gateway.Root.Path, "invoice.pdf")));
        Assert.Equal(226, (await c.UploadAsync("STOR real.pdf", Encoding.ASCII.GetBytes("%PDF-1.7\n%...\n"))).Code);
        Assert.Equal(226, (await c.UploadAsync("STOR photo.jpg", [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F'])).Code);

        // An empty or truncated file from a failing device: below minUploadBytes, refused.
        var empty = await c.UploadAsync("STOR empty.jpg", []);
        Assert.Equal(550, empty.Code);
        Assert.Contains("fewer than the 8", empty.Text, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(gateway.Root.Path, "empty.jpg")));

        // A rename may not turn a stored file into a refused type; a trailing dot does not hide the type.
        await c.ExpectAsync("RNFR real.pdf", 350);
        Assert.Equal(553, (await c.SendAsync("RNTO real.exe")).Code);
        await using (var other = await RawFtpClient.LoginAsync(gateway.Port, "unscanned", "unscanned-pw"))
        {
            Assert.Equal(553, (await other.SendAsync("STOR setup.exe.")).Code);
        }

        // STOU is judged by the client's name, not by the unique suffix.
        Assert.Equal(425, (await c.SendAsync("STOU scan.pdf")).Code); // past the type rules, waiting for PASV
        Assert.Equal(553, (await c.SendAsync("STOU scan.exe")).Code);

        // An append or a resume: the final size counts, and the content check applies only from the first byte.
        await using (var appender = await RawFtpClient.LoginAsync(gateway.Port, "scanner", "scanner-pw"))
        {
            Assert.Equal(226, (await appender.UploadAsync("APPE real.pdf", [1, 2, 3])).Code); // 3 new bytes, the file is larger than 8
            Assert.Equal(226, (await appender.UploadAsync("APPE real.pdf", Encoding.ASCII.GetBytes("not a header"))).Code);
        }
    }
}

/// <summary>The scanner's verdict before commit on S3 (radosgw): a multipart upload with a signature in it leaves nothing.</summary>
[Collection("S3")]
public sealed class S3UploadChecksTests(S3StoreFixture s3)
{
    [Fact]
    public async Task AnInfectedMultipartUpload_CommitsNothing_ACleanOneIsStored()
    {
        await using var clamd = await ClamdServer.StartAsync(streamLimit: 32 * 1024 * 1024);
        var prefix = "scan-" + Guid.NewGuid().ToString("N")[..8];
        var settings = s3.GatewaySettings(prefix);
        settings["Scanning:Clamd:Address"] = clamd.Address;
        await using var gateway = await Gateway.StartAsync(settings);
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        var infected = new byte[12 * 1024 * 1024]; // more than two parts of the fixture's 5 MiB: a multipart upload
        Encoding.ASCII.GetBytes(ClamdServer.CustomMarker).CopyTo(infected, 11_900_000);
        Assert.Equal(550, (await c.UploadAsync("STOR infected.bin", infected)).Code);
        var listed = await s3.Client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = S3StoreFixture.Bucket, Prefix = prefix + "/" });
        Assert.DoesNotContain(listed.S3Objects ?? [], o => o.Key.EndsWith("infected.bin", StringComparison.Ordinal));
        var uploads = await s3.Client.ListMultipartUploadsAsync(new Amazon.S3.Model.ListMultipartUploadsRequest { BucketName = S3StoreFixture.Bucket, Prefix = prefix + "/" });
        Assert.Empty(uploads.MultipartUploads ?? []);
        Assert.Equal(226, (await c.UploadAsync("STOR clean.bin", new byte[12 * 1024 * 1024])).Code);
        using var stored = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, $"{prefix}/clean.bin");
        Assert.Equal(12 * 1024 * 1024, stored.ContentLength);

        // With a quarantine target on S3, the infected multipart upload is kept there, whole, and only there.
        foreach (var (key, value) in s3.GatewaySettings(prefix + "-quarantine"))
        {
            settings[key.Replace("Storage:", "Storage:Targets:quarantine:", StringComparison.Ordinal)] = value;
        }

        settings["Scanning:QuarantineStorage"] = "quarantine";
        await using var quarantining = await Gateway.StartAsync(settings);
        await using var q = await RawFtpClient.LoginAsync(quarantining.Port, Gateway.User, Gateway.Password);
        Assert.Equal(550, (await q.UploadAsync("STOR infected.bin", infected)).Code);
        var kept = (await s3.Client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = S3StoreFixture.Bucket, Prefix = prefix + "-quarantine/" })).S3Objects;
        var object1 = Assert.Single(kept ?? []);
        Assert.EndsWith("-infected.bin", object1.Key, StringComparison.Ordinal);
        using var quarantined = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, object1.Key);
        using var bytes = new MemoryStream();
        await quarantined.ResponseStream.CopyToAsync(bytes);
        Assert.Equal(infected, bytes.ToArray());
        listed = await s3.Client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = S3StoreFixture.Bucket, Prefix = prefix + "/" });
        Assert.DoesNotContain(listed.S3Objects ?? [], o => o.Key.EndsWith("infected.bin", StringComparison.Ordinal));
    }
}

/// <summary>The scanner's verdict before commit on Azure (Azurite): an infected block upload leaves no blob.</summary>
[Collection("Azure")]
public sealed class AzureUploadChecksTests(AzureStoreFixture azure)
{
    [Fact]
    public async Task AnInfectedBlockUpload_CommitsNothing_ACleanOneIsStored()
    {
        await using var clamd = await ClamdServer.StartAsync();
        var prefix = "scan-" + Guid.NewGuid().ToString("N")[..8];
        var settings = azure.GatewaySettings(prefix);
        settings["Scanning:Clamd:Address"] = clamd.Address;
        await using var gateway = await Gateway.StartAsync(settings);
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        var infected = new byte[3 * 1024 * 1024];
        Encoding.ASCII.GetBytes(ClamdServer.CustomMarker).CopyTo(infected, 2_900_000);
        Assert.Equal(550, (await c.UploadAsync("STOR infected.bin", infected)).Code);
        Assert.False((await azure.Container.GetBlobClient($"{prefix}/infected.bin").ExistsAsync()).Value);
        Assert.Equal(226, (await c.UploadAsync("STOR clean.bin", new byte[3 * 1024 * 1024])).Code);
        Assert.Equal(3 * 1024 * 1024, (await azure.Container.GetBlobClient($"{prefix}/clean.bin").GetPropertiesAsync()).Value.ContentLength);
    }
}

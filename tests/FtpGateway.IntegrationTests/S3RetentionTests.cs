using System.Security.Cryptography;
using Amazon.S3.Model;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Write-once retention on radosgw, in a bucket created with Object Lock: every upload (single request and
/// multipart) carries the configured mode and date; a retained file can be neither deleted, replaced, appended to
/// nor renamed through FTP (550 with the reason, before any data), and can be once its retention has ended.
/// </summary>
[Collection("S3")]
public sealed class S3RetentionTests(S3StoreFixture s3)
{
    private const string LockedBucket = "ftpgw-locked";

    private async Task<Dictionary<string, string?>> LockedSettingsAsync(string prefix, string retainFor)
    {
        try
        {
            await s3.Client.PutBucketAsync(new PutBucketRequest { BucketName = LockedBucket, ObjectLockEnabledForBucket = true });
        }
        catch (Amazon.S3.AmazonS3Exception ex) when (ex.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
            // made by the other test of this class
        }

        var settings = s3.GatewaySettings(prefix);
        settings["Storage:S3:Bucket"] = LockedBucket;
        settings["Storage:S3:ObjectLock:Mode"] = "Governance";
        settings["Storage:S3:ObjectLock:RetainFor"] = retainFor;
        return settings;
    }

    [Fact]
    public async Task EveryUploadIsRetained_AndARetainedFileCannotBeDeletedReplacedAppendedToOrRenamed()
    {
        var prefix = "lock-" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await Gateway.StartAsync(await LockedSettingsAsync(prefix, "1.00:00:00"));
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        var large = RandomNumberGenerator.GetBytes(12 * 1024 * 1024);
        Assert.Equal(226, (await c.UploadAsync("STOR small.jpg", [1, 2, 3])).Code);
        Assert.Equal(226, (await c.UploadAsync("STOR large.mp4", large)).Code);
        foreach (var name in new[] { "small.jpg", "large.mp4" })
        {
            // GetObjectRetention: Ceph 16 does not show retention on a HEAD.
            var retention = (await s3.Client.GetObjectRetentionAsync(new GetObjectRetentionRequest { BucketName = LockedBucket, Key = $"{prefix}/{name}" })).Retention;
            Assert.Equal("GOVERNANCE", retention.Mode?.Value);
            Assert.InRange(retention.RetainUntilDate!.Value.ToUniversalTime(), DateTime.UtcNow.AddHours(23), DateTime.UtcNow.AddHours(25));
        }

        // In a locked (versioned) bucket a multipart upload's SHA-256 is a tag on its version: no copy, one version.
        var versions = await s3.Client.ListVersionsAsync(new ListVersionsRequest { BucketName = LockedBucket, Prefix = $"{prefix}/large.mp4" });
        Assert.Single(versions.Versions ?? []);
        var digest = Convert.ToHexStringLower(SHA256.HashData(large));
        var tags = await s3.Client.GetObjectTaggingAsync(new GetObjectTaggingRequest { BucketName = LockedBucket, Key = $"{prefix}/large.mp4" });
        Assert.Equal(digest, Assert.Single(tags.Tagging, t => t.Key == "ftpgateway-sha256").Value);
        Assert.Contains(digest, (await c.ExpectAsync("XSHA256 large.mp4", 250)).Text, StringComparison.OrdinalIgnoreCase);

        var deleted = await c.SendAsync("DELE small.jpg");
        Assert.Equal(550, deleted.Code);
        Assert.Contains("retention", deleted.Text, StringComparison.Ordinal);
        await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR small.jpg", 550); // before 150: no data moves
        await c.OpenPassiveAsync();
        await c.ExpectAsync("APPE large.mp4", 550);
        await c.ExpectAsync("RNFR small.jpg", 350);
        await c.ExpectAsync("RNTO moved.jpg", 550);
        Assert.Equal(226, (await c.UploadAsync("STOR other.jpg", [4, 5, 6])).Code);
        await c.ExpectAsync("RNFR other.jpg", 350);
        await c.ExpectAsync("RNTO small.jpg", 550); // another file may not take a retained file's name
        await c.ExpectAsync("MKD dir", 257);
        await c.ExpectAsync("RMD dir", 250); // directory markers are not retained
        await c.ExpectAsync("MKD box", 257);
        Assert.Equal(226, (await c.UploadAsync("STOR box/kept.jpg", [7])).Code);
        await c.ExpectAsync("RNFR box", 350);
        await c.ExpectAsync("RNTO box2", 550); // a directory holding a retained file stays where it is

        // Everything is still there, whole.
        var listing = await c.ListAsync("NLST");
        Assert.Contains("small.jpg", listing, StringComparison.Ordinal);
        Assert.Contains("large.mp4", listing, StringComparison.Ordinal);
        Assert.Equal(large, (await c.DownloadAsync("RETR large.mp4")).Data);
        Assert.Equal(226, (await c.UploadAsync("STOR box/second.jpg", [8])).Code);
    }

    [Fact]
    public async Task OnceItsRetentionHasEnded_AFileCanBeDeleted_AndABucketWithoutObjectLockStopsTheStart()
    {
        var prefix = "lock-" + Guid.NewGuid().ToString("N")[..8];
        await using (var gateway = await Gateway.StartAsync(await LockedSettingsAsync(prefix, "00:00:02")))
        await using (var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password))
        {
            Assert.Equal(226, (await c.UploadAsync("STOR brief.jpg", [1])).Code);
            await Poll.UntilAsync(async () => (await c.SendAsync("DELE brief.jpg")).Code == 250, "the retention to end", TimeSpan.FromSeconds(20));
        }

        var settings = s3.GatewaySettings(prefix);
        settings["Storage:S3:ObjectLock:Mode"] = "Compliance";
        settings["Storage:S3:ObjectLock:RetainFor"] = "7.00:00:00";
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () => await Gateway.StartAsync(settings));
        Assert.Contains($"Storage:S3:ObjectLock:Mode is Compliance, but bucket '{S3StoreFixture.Bucket}' does not have Object Lock enabled", failure.Message, StringComparison.Ordinal);

        settings["Storage:S3:ObjectLock:RetainFor"] = null;
        failure = await Assert.ThrowsAnyAsync<Exception>(async () => await Gateway.StartAsync(settings));
        Assert.Contains("Storage:S3:ObjectLock:RetainFor must be set", failure.Message, StringComparison.Ordinal);
    }
}

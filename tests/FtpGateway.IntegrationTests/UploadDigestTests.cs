using System.Security.Cryptography;
using Amazon.S3.Model;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The SHA-256 of every upload, computed while it streams and kept with the stored object — S3 metadata
/// <c>ftpgateway-sha256</c>, Azure metadata <c>ftpgateway_sha256</c>, the disk's extended attribute — checked
/// against the stored bytes for single-request, multipart, APPE and REST + STOR uploads; HASH and XSHA256 answer
/// from it without reading the object back.
/// </summary>
internal static class UploadDigests
{
    /// <param name="gateway">a gateway on the provider.</param>
    /// <param name="kept">the digest kept with a stored file, as the store shows it to anyone (null: none).</param>
    /// <param name="forge">replaces the kept digest with another value, behind the gateway's back.</param>
    public static async Task CheckAsync(Gateway gateway, Func<string, Task<string?>> kept, Func<string, string, Task> forge)
    {
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        var small = RandomNumberGenerator.GetBytes(1000);
        var large = RandomNumberGenerator.GetBytes((12 * 1024 * 1024) + 123); // past two parts or blocks: a multipart write
        var tail = RandomNumberGenerator.GetBytes(4096);

        Assert.Equal(226, (await c.UploadAsync("STOR small.bin", small)).Code);
        await ExpectAsync(c, kept, "small.bin", small);
        Assert.Equal(226, (await c.UploadAsync("STOR large.bin", large)).Code);
        await ExpectAsync(c, kept, "large.bin", large);

        // APPE: the digest of the whole object, kept parts included (copied server-side on S3, reused blocks on Azure).
        Assert.Equal(226, (await c.UploadAsync("APPE large.bin", tail)).Code);
        await ExpectAsync(c, kept, "large.bin", [.. large, .. tail]);
        Assert.Equal(226, (await c.UploadAsync("APPE small.bin", tail)).Code);
        await ExpectAsync(c, kept, "small.bin", [.. small, .. tail]);

        // REST + STOR keeps the first bytes and writes from there.
        await c.ExpectAsync("REST 500", 350);
        Assert.Equal(226, (await c.UploadAsync("STOR small.bin", tail)).Code);
        await ExpectAsync(c, kept, "small.bin", [.. small.AsSpan(0, 500), .. tail]);

        // HASH answers from what is kept, not from the bytes: a forged value shows through.
        var forged = new string('a', 64);
        await forge("large.bin", forged);
        Assert.Contains(forged, (await c.ExpectAsync("XSHA256 large.bin", 250)).Text, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task ExpectAsync(RawFtpClient c, Func<string, Task<string?>> kept, string name, byte[] content)
    {
        var expected = Convert.ToHexStringLower(SHA256.HashData(content));
        Assert.Equal(expected, await kept(name));
        Assert.Contains(expected, (await c.ExpectAsync($"HASH {name}", 213)).Text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(expected, (await c.ExpectAsync($"XSHA256 {name}", 250)).Text, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>On local disk: the extended attribute user.ftpgateway.sha256 (read with Python's os.getxattr), and the events and audit line.</summary>
public sealed class LocalDiskUploadDigestTests
{
    [Fact]
    public async Task EveryUploadsSha256_IsKeptAsAnExtendedAttribute_AndCarriedByItsEventAndAuditLine()
    {
        await using var webhook = new WebhookEvents();
        using var work = new TempDirectory();
        var audit = work.File("audit.jsonl");
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?> { ["Events:Webhooks:0:Url"] = webhook.Url, ["Audit:File"] = audit });
        await UploadDigests.CheckAsync(
            gateway,
            async name => await XattrAsync(Path.Combine(gateway.Root.Path, name), null),
            async (name, value) => await XattrAsync(Path.Combine(gateway.Root.Path, name), value));

        var expected = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(gateway.Root.Path, "small.bin"))));
        await Poll.UntilAsync(() => webhook.Received.Count(e => e.GetProperty("type").GetString() == "ftpgateway.upload.completed") >= 5, "the events");
        var events = webhook.Received;
        Assert.Equal(expected, events.Last(e => e.GetProperty("subject").GetString() == "/small.bin").GetProperty("data").GetProperty("sha256").GetString());

        await Poll.UntilAsync(() => File.Exists(audit) && File.ReadAllLines(audit).Length >= 5, "the audit lines");
        Assert.Contains(File.ReadAllLines(audit), line => line.Contains($"\"sha256\":\"{expected}\"", StringComparison.Ordinal));
    }

    /// <summary>Reads (value null) or sets the attribute as another program would.</summary>
    private static async Task<string?> XattrAsync(string file, string? value)
    {
        var script = value is null
            ? "import os,sys\ntry: print(os.getxattr(sys.argv[1], 'user.ftpgateway.sha256').decode())\nexcept OSError: print('')"
            : "import os,sys\nos.setxattr(sys.argv[1], 'user.ftpgateway.sha256', sys.argv[2].encode())";
        var run = await ExternalProcess.RunAsync(ExternalProcess.Require("python3"), value is null ? ["-c", script, file] : ["-c", script, file, value]);
        Assert.True(run.ExitCode == 0, run.ToString());
        return run.StandardOutput.Trim() is { Length: > 0 } read ? read : null;
    }
}

/// <summary>On S3 (radosgw): user metadata ftpgateway-sha256, on single-request and multipart uploads alike.</summary>
[Collection("S3")]
public sealed class S3UploadDigestTests(S3StoreFixture s3)
{
    [Fact]
    public async Task EveryUploadsSha256_IsKeptAsObjectMetadata()
    {
        var prefix = "sha-" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await Gateway.StartAsync(s3.GatewaySettings(prefix));
        await UploadDigests.CheckAsync(
            gateway,
            async name => (await s3.Client.GetObjectMetadataAsync(S3StoreFixture.Bucket, $"{prefix}/{name}")).Metadata["ftpgateway-sha256"],
            async (name, value) =>
            {
                var copy = new CopyObjectRequest
                {
                    SourceBucket = S3StoreFixture.Bucket, SourceKey = $"{prefix}/{name}", DestinationBucket = S3StoreFixture.Bucket, DestinationKey = $"{prefix}/{name}",
                    MetadataDirective = Amazon.S3.S3MetadataDirective.REPLACE,
                };
                copy.Metadata.Add("ftpgateway-sha256", value);
                await s3.Client.CopyObjectAsync(copy);
            });
    }
}

/// <summary>On Azure (Azurite): blob metadata ftpgateway_sha256, set in the same commit as the block list.</summary>
[Collection("Azure")]
public sealed class AzureUploadDigestTests(AzureStoreFixture azure)
{
    [Fact]
    public async Task EveryUploadsSha256_IsKeptAsBlobMetadata()
    {
        var prefix = "sha-" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await Gateway.StartAsync(azure.GatewaySettings(prefix));
        await UploadDigests.CheckAsync(
            gateway,
            async name => (await azure.Container.GetBlobClient($"{prefix}/{name}").GetPropertiesAsync()).Value.Metadata.TryGetValue("ftpgateway_sha256", out var v) ? v : null,
            async (name, value) =>
            {
                var blob = azure.Container.GetBlobClient($"{prefix}/{name}");
                var metadata = (await blob.GetPropertiesAsync()).Value.Metadata;
                metadata["ftpgateway_sha256"] = value;
                await blob.SetMetadataAsync(metadata);
            });
    }
}

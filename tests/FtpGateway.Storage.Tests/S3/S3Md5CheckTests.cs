using System.Security.Cryptography;
using Amazon.Runtime.Internal.Util;
using Amazon.S3.Model;
using FtpGateway.Storage.S3;
using FtpGateway.TestSupport;

namespace FtpGateway.Storage.Tests.S3;

/// <summary>The MD5 check of a download of an object stored in one piece (<c>S3Md5Check</c>), on radosgw and on made-up responses.</summary>
[Collection("S3")]
public sealed class S3Md5CheckTests(S3StoreFixture s3)
{
    [Fact]
    public async Task AnObjectStoredInOnePiece_IsCheckedAgainstItsMd5_ByTheGatewayInsteadOfTheSdk()
    {
        // Another tool's PutObject: an MD5 ETag, for which the SDK hashes an unranged download itself.
        var prefix = "t-" + Guid.NewGuid().ToString("N")[..12];
        using var provider = S3Storage.Create(s3.Options(prefix));
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var key = prefix + "/one-piece.bin";
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = key, InputStream = new MemoryStream(content) });
        using (var raw = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, key, CancellationToken.None))
        {
            Assert.IsType<MD5Stream>(raw.ResponseStream); // what the gateway replaces; an SDK that stops doing it fails here
        }

        await using (var stream = await provider.OpenReadAsync(StoragePath.Parse("/one-piece.bin"), 0, CancellationToken.None))
        {
            var read = new MemoryStream();
            await stream.CopyToAsync(read, CancellationToken.None);
            Assert.Equal(content, read.ToArray());
        }

        // The SDK's stream below expects a wrong hash and is bypassed; the gateway's own check holds the ETag.
        var body = RandomNumberGenerator.GetBytes(1000);
        static GetObjectResponse Response(byte[] bytes, byte[] etagOf) => new()
        {
            Key = "k",
            ETag = $"\"{Convert.ToHexStringLower(MD5.HashData(etagOf))}\"",
            ContentLength = bytes.Length,
            ResponseStream = new MD5Stream(new MemoryStream(bytes), expectedHash: new byte[16], expectedLength: bytes.Length),
        };
        await using (var right = S3ObjectStore.Download(Response(body, etagOf: body)))
        {
            var read = new MemoryStream();
            await right.CopyToAsync(read, CancellationToken.None);
            Assert.Equal(body, read.ToArray());
        }

        await using (var wrong = S3ObjectStore.Download(Response(body, etagOf: content)))
        {
            var failure = await Assert.ThrowsAsync<StorageException>(() => wrong.CopyToAsync(Stream.Null, CancellationToken.None));
            Assert.Equal(StorageErrorKind.Unavailable, failure.Kind);
            Assert.Contains("does not match its MD5", failure.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<StorageException>(async () => await wrong.ReadAtLeastAsync(new byte[10], 1, throwOnEndOfStream: false, CancellationToken.None)); // not a clean end afterwards
        }

        // A reader that stops at the length (the digest of a kept prefix) is checked on the read that completes it.
        await using (var exact = S3ObjectStore.Download(Response(body, etagOf: content)))
        {
            await Assert.ThrowsAsync<StorageException>(async () => await exact.ReadExactlyAsync(new byte[body.Length], CancellationToken.None));
        }

        // An empty object: the bypassed SDK stream, which would compare its (wrong) hash when disposed, is not disposed
        // with the response, so the failure is the gateway's StorageException and disposing throws nothing.
        var empty = S3ObjectStore.Download(Response([], etagOf: content));
        await Assert.ThrowsAsync<StorageException>(() => empty.CopyToAsync(Stream.Null, CancellationToken.None));
        await empty.DisposeAsync();
    }
}

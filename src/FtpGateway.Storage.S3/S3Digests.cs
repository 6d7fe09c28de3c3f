using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using FtpGateway.Storage.ObjectStore;

namespace FtpGateway.Storage.S3;

/// <summary>
/// Where the SHA-256 of a multipart upload goes. S3 takes an object's metadata when the upload begins, before the
/// digest is known. In a plain bucket the completed object is copied onto itself with its final metadata, pinned to
/// the version just completed (a metadata update on Ceph, a server-side copy on AWS). Where that copy would leave a
/// second version behind (a versioned or Object Lock bucket) or cannot be made (an archive storage class), the
/// digest is an object tag <c>ftpgateway-sha256</c> on the completed version instead: no copy, no new version. Either
/// way a committed upload is never failed for its digest: the object stands, and HASH reads it back.
/// </summary>
internal sealed class S3Digests(S3Bucket bucket, S3StorageOptions options)
{
    /// <summary>The tag (and the S3 spelling of the metadata) the digest is kept under.</summary>
    public static readonly string Name = S3Bucket.S3MetadataName(ObjectMetadata.Sha256);

    private static readonly string[] ArchiveClasses = ["GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "STANDARD_IA", "ONEZONE_IA"];

    /// <summary>Tags instead of the copy: set at the start-up probe (versioning), or by the configuration.</summary>
    public bool Tags { get; private set; } = options.ObjectLock.Mode != S3ObjectLockMode.None
        || ArchiveClasses.Contains(options.StorageClass ?? string.Empty, StringComparer.OrdinalIgnoreCase);

    /// <summary>Learns whether the bucket keeps versions (then a copy would keep the completed one besides it).</summary>
    public async Task LearnVersioningAsync(CancellationToken cancellationToken)
    {
        try
        {
            var versioning = await bucket.Client.GetBucketVersioningAsync(new GetBucketVersioningRequest { BucketName = bucket.Name }, cancellationToken);
            Tags |= versioning.VersioningConfig?.Status == VersionStatus.Enabled;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotImplemented)
        {
            // Not allowed to ask (s3:GetBucketVersioning) or not implemented: the copy, as in a plain bucket.
        }
    }

    /// <summary>Keeps the final metadata (the digest) with the version <paramref name="completed"/> made.</summary>
    public async Task KeepAsync(string key, long size, CompleteMultipartUploadResponse completed, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        try
        {
            if (Tags)
            {
                if (metadata.TryGetValue(ObjectMetadata.Sha256, out var sha))
                {
                    await bucket.Client.PutObjectTaggingAsync(
                        new PutObjectTaggingRequest
                        {
                            BucketName = bucket.Name,
                            Key = key,
                            VersionId = string.IsNullOrEmpty(completed.VersionId) ? null : completed.VersionId,
                            Tagging = new Tagging { TagSet = [new Tag { Key = Name, Value = sha }] },
                        },
                        cancellationToken);
                }

                return;
            }

            var final = metadata.ToDictionary(m => S3Bucket.S3MetadataName(m.Key), m => m.Value);
            var self = new ObjectInfo(key, size, null, completed.ETag) { Metadata = final };
            await new S3ServerCopy(bucket).RunAsync(self, key, (final, "application/octet-stream"), cancellationToken);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            // Committed: the object is whole, only its digest is not kept with it (HASH then reads it back).
        }
    }

    /// <summary>The digest kept as a tag on a multipart object whose metadata has none; null if none.</summary>
    public async Task<byte[]?> TaggedAsync(ObjectInfo head, CancellationToken cancellationToken)
    {
        if (!Tags || head.ETag?.Contains('-', StringComparison.Ordinal) != true)
        {
            return null;
        }

        var tags = await bucket.Client.GetObjectTaggingAsync(new GetObjectTaggingRequest { BucketName = bucket.Name, Key = head.Key }, cancellationToken);
        return ObjectMetadata.ReadSha256(tags.Tagging?.FirstOrDefault(t => t.Key == Name)?.Value);
    }
}

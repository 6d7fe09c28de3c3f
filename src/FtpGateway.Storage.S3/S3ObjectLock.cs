using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace FtpGateway.Storage.S3;

/// <summary>
/// Write-once retention (<c>Storage:S3:ObjectLock</c>): the mode and date every file written carries. A single
/// request carries them as headers; a multipart upload or a copy gets its retention set on the version it made
/// (PutObjectRetention), because not every store applies the headers there (Ceph 16 ignores them on both). A
/// HEAD that does not show retention (Ceph 16 never does) is completed by GetObjectRetention.
/// </summary>
internal sealed class S3ObjectLock(IAmazonS3 client, S3StorageOptions options, TimeProvider time)
{
    private readonly ObjectLockMode? _mode = options.ObjectLock.Mode switch
    {
        S3ObjectLockMode.Governance => ObjectLockMode.Governance,
        S3ObjectLockMode.Compliance => ObjectLockMode.Compliance,
        _ => null,
    };

    public bool Enabled => _mode is not null;

    /// <summary>The retention a new object under <paramref name="key"/> carries: from now, for files (directory markers are never retained: RMD must work).</summary>
    public (ObjectLockMode? Mode, DateTime? Until) For(string key) =>
        _mode is null || key.EndsWith('/') ? (null, null) : (_mode, time.GetUtcNow().Add(options.ObjectLock.RetainFor).UtcDateTime);

    /// <summary>Sets the retention on the version a multipart upload made, unless the store applied it from the headers.</summary>
    public async Task EnsureRetainedAsync(string key, string? versionId, CancellationToken cancellationToken)
    {
        if (_mode is null || key.EndsWith('/'))
        {
            return;
        }

        try
        {
            var current = await client.GetObjectRetentionAsync(
                new GetObjectRetentionRequest { BucketName = options.Bucket, Key = key, VersionId = string.IsNullOrEmpty(versionId) ? null : versionId },
                cancellationToken);
            if (current.Retention?.RetainUntilDate is not null)
            {
                return;
            }
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            // none yet
        }

        await RetainAsync(key, versionId, cancellationToken);
    }

    /// <summary>Sets the retention on the version a copy made.</summary>
    public async Task RetainAsync(string key, string? versionId, CancellationToken cancellationToken)
    {
        if (For(key) is not { Mode: { } mode, Until: { } until })
        {
            return;
        }

        await client.PutObjectRetentionAsync(
            new PutObjectRetentionRequest
            {
                BucketName = options.Bucket,
                Key = key,
                VersionId = string.IsNullOrEmpty(versionId) ? null : versionId,
                Retention = new ObjectLockRetention { Mode = ObjectLockRetentionMode.FindValue(mode.Value), RetainUntilDate = until },
            },
            cancellationToken);
    }

    /// <summary>Until when the object a HEAD describes is retained; null when it is not (or no retention is configured).</summary>
    public async Task<DateTimeOffset?> RetainedUntilAsync(string key, GetObjectMetadataResponse head, CancellationToken cancellationToken)
    {
        if (head.ObjectLockMode is not null)
        {
            return S3Bucket.Utc(head.ObjectLockRetainUntilDate);
        }

        if (_mode is null || key.EndsWith('/'))
        {
            return null;
        }

        try
        {
            var retention = await client.GetObjectRetentionAsync(
                new GetObjectRetentionRequest { BucketName = options.Bucket, Key = key, VersionId = string.IsNullOrEmpty(head.VersionId) ? null : head.VersionId },
                cancellationToken);
            return S3Bucket.Utc(retention.Retention?.RetainUntilDate);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            return null; // NoSuchObjectLockConfiguration: written without retention
        }
    }
}

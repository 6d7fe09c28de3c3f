using Amazon.S3.Model;
using FtpGateway.Storage.ObjectStore;

namespace FtpGateway.Storage.S3;

/// <summary>One S3 multipart upload: parts from data (UploadPart) or copied server-side (UploadPartCopy).</summary>
internal sealed class S3MultipartWrite(S3Bucket bucket, string key, string uploadId, string? sourceKey = null) : IMultipartWrite
{
    private long _size;

    public async Task<string> UploadPartAsync(int number, PartContent data, CancellationToken cancellationToken)
    {
        var part = new UploadPartRequest
        {
            BucketName = bucket.Name,
            Key = key,
            UploadId = uploadId,
            PartNumber = number,
            PartSize = data.Length,
            InputStream = data.OpenRead(),
            MD5Digest = bucket.ContentMd5(data),
            DisableDefaultChecksumValidation = bucket.SignedPayloadSuffices,
        };
        var etag = (await bucket.Client.UploadPartAsync(part, cancellationToken)).ETag;
        Interlocked.Add(ref _size, data.Length);
        return etag;
    }

    /// <summary>
    /// UploadPartCopy of a range of the source (the same key for APPE and REST + STOR), conditional on its version:
    /// AWS evaluates that condition, radosgw 16 ignores it.
    /// </summary>
    public async Task<string> AddKeptPartAsync(int number, KeptPart part, CancellationToken cancellationToken) =>
        (await CopyPartAsync(number, part, cancellationToken)).ETag;

    /// <summary>
    /// The UploadPartCopy of <see cref="AddKeptPartAsync"/>, with what S3 answered (the part's ETag and encryption);
    /// with <paramref name="whole"/>, of all of the source as it is now, whatever its length (no range).
    /// </summary>
    public async Task<CopyPartResponse> CopyPartAsync(int number, KeptPart part, CancellationToken cancellationToken, bool whole = false)
    {
        var response = await bucket.Client.CopyPartAsync(
            new CopyPartRequest
            {
                SourceBucket = bucket.Name,
                SourceKey = sourceKey ?? key,
                DestinationBucket = bucket.Name,
                DestinationKey = key,
                UploadId = uploadId,
                PartNumber = number,
                FirstByte = whole ? null : part.Offset,
                LastByte = whole ? null : part.Offset + part.Length - 1,
                ETagToMatch = part.SourceETag is null ? null : [part.SourceETag],
            },
            cancellationToken);
        Interlocked.Add(ref _size, part.Length);
        return response;
    }

    /// <summary>
    /// The commit, conditional as the upload requires (AWS S3 evaluates both conditions; Ceph 16 ignores them here);
    /// then the retention the configuration asks for, and the final metadata (<see cref="S3Digests"/>).
    /// </summary>
    public async Task CompleteAsync(
        IReadOnlyList<(int Number, string Token)> parts, WriteCondition condition, byte[]? md5, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var completed = await bucket.Client.CompleteMultipartUploadAsync(
            new CompleteMultipartUploadRequest
            {
                BucketName = bucket.Name,
                Key = key,
                UploadId = uploadId,
                PartETags = parts.Select(p => new PartETag(p.Number, p.Token)).ToList(),
                IfMatch = S3Bucket.Unquoted(condition.IfMatch),
                IfNoneMatch = condition.IfNoneMatch ? "*" : null,
            },
            cancellationToken);

        // Retained from its completion. A store that applied the headers sent when the upload began has it already;
        // one that ignored them (Ceph 16) gets it now, and if that fails the upload fails: a version without its
        // retention must not be answered 226.
        await bucket.Lock.EnsureRetainedAsync(key, completed.VersionId, cancellationToken);
        if (metadata is not null)
        {
            await bucket.Digests.KeepAsync(key, Interlocked.Read(ref _size), completed, metadata, cancellationToken);
        }
    }

    public async Task AbortAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), bucket.Time);
            await bucket.Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket.Name, Key = key, UploadId = uploadId }, timeout.Token);
        }
#pragma warning disable CA1031 // Aborting is best effort and must not hide the failure that caused it.
        catch (Exception)
        {
            // The bucket's lifecycle rule for incomplete multipart uploads is the backstop (README).
        }
#pragma warning restore CA1031
    }
}

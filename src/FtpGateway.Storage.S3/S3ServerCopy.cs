using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using FtpGateway.Storage.ObjectStore;

namespace FtpGateway.Storage.S3;

/// <summary>
/// A server-side copy within the bucket (RNFR/RNTO and MFMT): one CopyObject up to 5 GiB; a multipart copy above,
/// and for an object that carries an MFMT time (its copy must keep the multipart ETag that shows it).
/// </summary>
internal sealed class S3ServerCopy(S3Bucket bucket)
{
    private const long MaximumCopyPartSize = 5L * 1024 * 1024 * 1024;

    /// <param name="source">the object copied.</param>
    /// <param name="targetKey">where the copy goes.</param>
    /// <param name="replaceMetadata">the copy's metadata and content type; null: the source's, copied along.</param>
    /// <param name="cancellationToken">cancels the copy.</param>
    public async Task RunAsync(ObjectInfo source, string targetKey, (Dictionary<string, string> Metadata, string? ContentType)? replaceMetadata, CancellationToken cancellationToken)
    {
        if (source.Metadata is null && S3ObjectStore.MayCarryStoredTime(source))
        {
            source = await bucket.HeadAsync(source.Key, cancellationToken) ?? source; // listed: look whether it carries a time
        }

        var stamped = replaceMetadata is { } r ? r.Metadata.ContainsKey(S3Bucket.MtimeMetadata) : source.StoredTime is not null;
        if (source.Size <= MaximumCopyPartSize && !stamped)
        {
            var copy = bucket.Decorate(new CopyObjectRequest
            {
                SourceBucket = bucket.Name,
                SourceKey = source.Key,
                DestinationBucket = bucket.Name,
                DestinationKey = targetKey,
                ETagToMatch = source.ETag, // the version seen, as the multipart copy's parts are
            });
            if (replaceMetadata is { } replace)
            {
                copy.MetadataDirective = S3MetadataDirective.REPLACE;
                copy.ContentType = replace.ContentType;
                foreach (var (name, value) in replace.Metadata)
                {
                    copy.Metadata.Add(name, value);
                }
            }

            var copied = await bucket.Client.CopyObjectAsync(copy, cancellationToken);
            await bucket.Lock.EnsureRetainedAsync(targetKey, copied.VersionId, cancellationToken);
            return;
        }

        // A multipart upload whose parts are copies; its metadata is set when it starts.
        var head = source.Metadata is null ? await bucket.HeadAsync(source.Key, cancellationToken) ?? source : source;
        var (metadata, contentType) = replaceMetadata ?? (new Dictionary<string, string>(head.Metadata ?? new Dictionary<string, string>()), head.ContentType);
        var write = await bucket.InitiateMultipartAsync(targetKey, contentType, metadata, cancellationToken, sourceKey: source.Key);
        try
        {
            var parts = new List<(int, string)>();
            foreach (var (first, length) in Ranges(source.Size))
            {
                var copied = await write.CopyPartAsync(parts.Count + 1, new KeptPart(first, length) { SourceETag = source.ETag }, cancellationToken);
                RequireUnchanged(source, length, copied);
                parts.Add((parts.Count + 1, copied.ETag));
            }

            if (parts.Count == 0)
            {
                parts.Add((1, await write.UploadPartAsync(1, PartContent.Empty, cancellationToken))); // an empty object: one empty part
            }

            await write.CompleteAsync(parts, WriteCondition.None, null, null, cancellationToken);
        }
        catch
        {
            await write.AbortAsync();
            throw;
        }
    }

    /// <summary>
    /// The part's copy is conditional on the source's ETag, and radosgw ignores that condition: a source replaced
    /// since it was looked at would be copied with the old version's metadata (its SHA-256 among it). Where the whole
    /// of a single-part source is one part and the store computes ETags as MD5s (no SSE-KMS), the part's ETag is the
    /// MD5 of what was copied: a different one is refused as AWS refuses the condition (412), and the caller looks again.
    /// </summary>
    private static void RequireUnchanged(ObjectInfo source, long length, CopyPartResponse copied)
    {
        var md5Etags = copied.ServerSideEncryptionMethod is null
            || copied.ServerSideEncryptionMethod == ServerSideEncryptionMethod.None
            || copied.ServerSideEncryptionMethod == ServerSideEncryptionMethod.AES256;
        if (source.Md5 is { } md5 && length == source.Size && md5Etags
            && !string.Equals(S3Bucket.Unquoted(copied.ETag), Convert.ToHexStringLower(md5), StringComparison.OrdinalIgnoreCase))
        {
            throw new AmazonS3Exception($"'{source.Key}' changed since it was looked at", ErrorType.Sender, "PreconditionFailed", null, HttpStatusCode.PreconditionFailed);
        }
    }

    /// <summary>Bytes [0, length) in equal ranges of at most 5 GiB (S3's largest part).</summary>
    public static IEnumerable<(long First, long Length)> Ranges(long length)
    {
        if (length == 0)
        {
            yield break;
        }

        var count = (length + MaximumCopyPartSize - 1) / MaximumCopyPartSize;
        var size = (length + count - 1) / count;
        for (long first = 0; first < length; first += size)
        {
            yield return (first, Math.Min(size, length - first));
        }
    }
}

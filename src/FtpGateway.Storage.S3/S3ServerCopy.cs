using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using FtpGateway.Storage.ObjectStore;

#pragma warning disable CA5351 // S3 ETags are MD5s: comparing with them is not a security use.

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
            var self = targetKey == source.Key;
            if (self && source.Size is > 0 and <= MaximumCopyPartSize)
            {
                // MFMT: the whole object as it is now, in one part, whose ETag then describes all that was copied.
                parts.Add((1, await CopyWholeAsync(write, source, cancellationToken)));
            }
            else
            {
                foreach (var (first, length) in Ranges(source.Size))
                {
                    parts.Add((parts.Count + 1, await write.AddKeptPartAsync(parts.Count + 1, new KeptPart(first, length) { SourceETag = source.ETag }, cancellationToken)));
                }
            }

            if (parts.Count == 0)
            {
                parts.Add((1, await write.UploadPartAsync(1, PartContent.Empty, cancellationToken))); // an empty object: one empty part
            }

            // Onto itself, only over the version seen: AWS evaluates If-Match here (radosgw 16 does not).
            await write.CompleteAsync(parts, self ? WriteCondition.StillVersion(source.ETag) : WriteCondition.None, null, null, cancellationToken);
        }
        catch
        {
            await write.AbortAsync();
            throw;
        }
    }

    /// <summary>
    /// The copy of an object onto itself, conditional on its ETag; radosgw ignores that condition, and an object
    /// replaced since it was looked at would be stamped with the old version's metadata (its SHA-256 among it).
    /// Where ETags are MD5s (no SSE-KMS or DSSE-KMS), the copied part's ETag is the MD5 of all that was copied and
    /// so tells what a one-part source's ETag should be: for an object stored in one piece its MD5, for one stored
    /// as a single part (ETag "…-1", a stamped one) the MD5 of that part's MD5. On a mismatch, or a copy refused
    /// otherwise (a source grown past 5 GiB), the object is looked at again: changed, it is refused as AWS refuses
    /// the condition (412), and the caller looks again; the same (a store whose part ETags are not MD5s), it stands.
    /// </summary>
    private async Task<string> CopyWholeAsync(S3MultipartWrite write, ObjectInfo source, CancellationToken cancellationToken)
    {
        CopyPartResponse copied;
        try
        {
            copied = await write.CopyPartAsync(1, new KeptPart(0, source.Size) { SourceETag = source.ETag }, cancellationToken, whole: true);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is not (HttpStatusCode.PreconditionFailed or HttpStatusCode.NotFound))
        {
            throw await ChangedAsync(source, cancellationToken) ? Changed(source, ex) : ex;
        }

        var part = S3Bucket.ETagsAreMd5s(copied.ServerSideEncryptionMethod) ? S3Bucket.Md5Of(copied.ETag) : null;
        var etag = S3Bucket.Unquoted(source.ETag);
        if (part is not null && etag is not null
            && OnePartETag(etag, source.Md5 is not null, part) is { } expected && !string.Equals(expected, etag, StringComparison.OrdinalIgnoreCase)
            && await ChangedAsync(source, cancellationToken))
        {
            throw Changed(source, null);
        }

        return copied.ETag;
    }

    /// <summary>
    /// The ETag of a source like <paramref name="etag"/> whose bytes are those of a part with the MD5 <paramref name="part"/>:
    /// that MD5 for one stored in one piece (when its ETag is an MD5), its MD5 and "-1" for one stored as a single part;
    /// null for one assembled from several parts, or whose ETag is no MD5: nothing to compare with.
    /// </summary>
    private static string? OnePartETag(string etag, bool etagIsMd5, byte[] part) =>
        !etag.Contains('-', StringComparison.Ordinal) ? (etagIsMd5 ? Convert.ToHexStringLower(part) : null)
        : etag.EndsWith("-1", StringComparison.Ordinal) ? Convert.ToHexStringLower(MD5.HashData(part)) + "-1"
        : null;

    /// <summary>Whether the object is no longer the version <paramref name="source"/> (a bare HEAD: its ETag is all that counts).</summary>
    private async Task<bool> ChangedAsync(ObjectInfo source, CancellationToken cancellationToken)
    {
        try
        {
            var now = await bucket.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket.Name, Key = source.Key }, cancellationToken);
            return !string.Equals(S3Bucket.Unquoted(now.ETag), S3Bucket.Unquoted(source.ETag), StringComparison.OrdinalIgnoreCase);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return true;
        }
    }

    private static AmazonS3Exception Changed(ObjectInfo source, Exception? inner) =>
        new($"'{source.Key}' changed since it was looked at", inner, ErrorType.Sender, "PreconditionFailed", null, HttpStatusCode.PreconditionFailed);

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

using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Util;
using Amazon.S3;
using Amazon.S3.Model;
using FtpGateway.Storage.ObjectStore;

namespace FtpGateway.Storage.S3;

/// <summary>
/// The primitives of one S3 bucket (AWS or any S3-compatible store). Directory markers are "dir/" objects of type
/// application/x-directory. Every write goes through <see cref="S3Bucket.Decorate{T}"/>, so each carries the
/// configured storage class and encryption.
/// </summary>
internal sealed class S3ObjectStore(S3Bucket bucket, S3StorageOptions options) : IObjectStore, IDisposable
{
    internal const string DirectoryContentType = "application/x-directory";
    internal const long MinimumPartSize = 5L * 1024 * 1024;

    private readonly S3StoredTimes _storedTimes = new();

    public string Name => "S3";

    /// <summary>SHA-256 and MD5 come from what was stored with the object where possible, else from one streamed read.</summary>
    public IReadOnlyList<string> HashAlgorithms { get; } = [Hashing.Sha256, Hashing.Md5];

    public bool ListingStartIsInclusive => false;

    public bool KeepsWholeObjectMd5 => false;

    public bool Retains => options.ObjectLock.Mode != S3ObjectLockMode.None;

    /// <summary>The digest in the metadata, or in the tag a multipart upload got in a versioned or locked bucket.</summary>
    public async Task<byte[]?> StoredSha256Async(ObjectInfo head, CancellationToken cancellationToken) =>
        head.Sha256 ?? await bucket.Digests.TaggedAsync(head, cancellationToken);

    private bool _objectLockConfirmed;
    private bool _versioningLearned;

    public void Dispose() => bucket.Dispose();

    public string Describe() =>
        $"S3 bucket '{bucket.Name}' at {(string.IsNullOrWhiteSpace(options.ServiceUrl) ? $"AWS region {(string.IsNullOrWhiteSpace(options.Region) ? "us-east-1" : options.Region)}" : options.ServiceUrl)}";

    public string Locate(string key) => $"s3://{bucket.Name}/{key}";

    public string MarkerKey(string directoryKey) => directoryKey + "/";

    // ---- Reading --------------------------------------------------------------------------------

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken) => bucket.HeadAsync(key, cancellationToken);

    public async IAsyncEnumerable<ObjectListPage> ListPagesAsync(string prefix, bool delimited, int? pageSize, string? startAt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? continuation = null;
        do
        {
            var page = await bucket.Client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = bucket.Name, Prefix = prefix, Delimiter = delimited ? "/" : null, ContinuationToken = continuation, MaxKeys = pageSize, StartAfter = startAt },
                cancellationToken);
            var objects = (page.S3Objects ?? []).Select(o => new ObjectInfo(o.Key, o.Size ?? 0, S3Bucket.Utc(o.LastModified), o.ETag) { IsDirectoryMarker = o.Key.EndsWith('/') }).ToList();
            yield return new ObjectListPage(objects, page.CommonPrefixes ?? []) { Truncated = page.IsTruncated == true };
            continuation = page.IsTruncated == true && pageSize is null ? page.NextContinuationToken : null;
        }
        while (continuation is not null);
    }

    /// <summary>
    /// The MFMT times of listed files, from their metadata: a HEAD (16 at a time) for each version not looked at
    /// before, and with ListingModificationTime=Metadata only for files whose ETag says they may carry one.
    /// </summary>
    public async Task<IReadOnlyList<ObjectInfo>> CompleteListingAsync(IReadOnlyList<ObjectInfo> files, CancellationToken cancellationToken)
    {
        if (options.ListingModificationTime == S3ListingTime.LastModified)
        {
            return files;
        }

        var everyFile = options.ListingModificationTime == S3ListingTime.MetadataEveryFile;
        var result = new ObjectInfo?[files.Count];
        var unknown = new List<int>();
        for (var i = 0; i < files.Count; i++)
        {
            if (!everyFile && !MayCarryStoredTime(files[i]))
            {
                result[i] = files[i];
            }
            else if (_storedTimes.TryGet(files[i], out var known))
            {
                result[i] = files[i] with { StoredTime = known };
            }
            else
            {
                unknown.Add(i);
            }
        }

        // An object deleted since the listing page was read is left out; one that cannot be looked at keeps its S3 time.
        await Parallel.ForEachAsync(unknown, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            try
            {
                var head = await bucket.HeadAsync(files[i].Key, ct);
                if (head is not null)
                {
                    _storedTimes.Remember(files[i], head);
                }

                result[i] = head is null ? null : files[i] with { StoredTime = head.StoredTime };
            }
            catch (AmazonServiceException)
            {
                result[i] = files[i];
            }
        });
        return [.. result.OfType<ObjectInfo>()];
    }

    /// <summary>An object assembled from parts (ETag "...-N"): MFMT writes every object it stamps so.</summary>
    internal static bool MayCarryStoredTime(ObjectInfo listed) => listed.ETag?.Contains('-', StringComparison.Ordinal) == true;

    public async Task<Stream?> OpenAsync(string key, long offset, CancellationToken cancellationToken)
    {
        var request = new GetObjectRequest { BucketName = bucket.Name, Key = key };
        if (offset > 0)
        {
            request.ByteRange = new ByteRange($"bytes={offset.ToString(CultureInfo.InvariantCulture)}-");
        }

        try
        {
            return Download(await bucket.Client.GetObjectAsync(request, cancellationToken));
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {offset} is beyond the end of '{key}'", ex);
        }
    }

    /// <summary>A one-object listing; with Storage:S3:ObjectLock, once, that the bucket has Object Lock enabled.</summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await bucket.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket.Name, Prefix = options.KeyPrefix, MaxKeys = 1 }, cancellationToken);
        if (!_versioningLearned)
        {
            await bucket.Digests.LearnVersioningAsync(cancellationToken);
            _versioningLearned = true;
        }
        if (Retains && !_objectLockConfirmed)
        {
            string? enabled;
            try
            {
                var response = await bucket.Client.GetObjectLockConfigurationAsync(new GetObjectLockConfigurationRequest { BucketName = bucket.Name }, cancellationToken);
                enabled = response.ObjectLockConfiguration?.ObjectLockEnabled?.Value;
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
            {
                enabled = null; // ObjectLockConfigurationNotFoundError
            }

            _objectLockConfirmed = enabled == "Enabled" ? true : throw new StorageException(
                StorageErrorKind.NotSupported,
                $"Storage:S3:ObjectLock:Mode is {options.ObjectLock.Mode}, but bucket '{bucket.Name}' does not have Object Lock enabled (create the bucket with Object Lock, or leave Storage:S3:ObjectLock unset)");
        }
    }

    // ---- Writing --------------------------------------------------------------------------------

    /// <summary>
    /// Returns no version for the MFMT that may follow: the guards of its copy (the copy-source condition on the
    /// ETag, which radosgw ignores; the part's MD5, <see cref="S3ServerCopy"/>) would not see a later rewrite of
    /// the same bytes with other metadata, and a remembered version can be old. The MFMT looks first.
    /// </summary>
    public async Task<ObjectInfo?> PutAsync(string key, PartContent content, WriteCondition condition, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var put = bucket.Decorate(new PutObjectRequest
        {
            BucketName = bucket.Name,
            Key = key,
            InputStream = content.OpenRead(),
            ContentType = "application/octet-stream",
            MD5Digest = bucket.ContentMd5(content),
            DisableDefaultChecksumValidation = bucket.SignedPayloadSuffices,
            IfNoneMatch = condition.IfNoneMatch ? "*" : null,
            IfMatch = S3Bucket.Unquoted(condition.IfMatch),
        });
        foreach (var (name, value) in metadata ?? new Dictionary<string, string>())
        {
            put.Metadata.Add(S3Bucket.S3MetadataName(name), value);
        }

        await bucket.Client.PutObjectAsync(put, cancellationToken);
        return null;
    }

    public async Task<IMultipartWrite> BeginMultipartAsync(string key, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        // Not cancelled half-way: the store could create the upload and we would never learn its id to abort it.
        var write = await bucket.InitiateMultipartAsync(
            key, "application/octet-stream", metadata?.Select(m => KeyValuePair.Create(S3Bucket.S3MetadataName(m.Key), m.Value)), CancellationToken.None);
        if (cancellationToken.IsCancellationRequested)
        {
            await write.AbortAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }

        return write;
    }

    /// <summary>
    /// A kept prefix of 5 MiB or more (S3's smallest part) is copied server-side, conditional on the existing
    /// object's ETag (UploadPartCopy); a shorter one is read back and sent again in the first part.
    /// </summary>
    public async Task<KeptPrefix> KeepPrefixAsync(ObjectInfo existing, long keep, CancellationToken cancellationToken)
    {
        if (keep >= MinimumPartSize)
        {
            return new KeptPrefix(S3ServerCopy.Ranges(keep).Select(r => new KeptPart(r.First, r.Length) { SourceETag = existing.ETag }).ToList(), null);
        }

        var response = await bucket.Client.GetObjectAsync(
            new GetObjectRequest { BucketName = bucket.Name, Key = existing.Key, ByteRange = new ByteRange(0, keep - 1), EtagToMatch = existing.ETag },
            cancellationToken);
        return new KeptPrefix([], Download(response));
    }

    /// <summary>Server-side copy: one CopyObject up to 5 GiB (metadata copied along), a multipart copy above.</summary>
    public Task CopyAsync(ObjectInfo source, string targetKey, CancellationToken cancellationToken) =>
        new S3ServerCopy(bucket).RunAsync(source, targetKey, replaceMetadata: null, cancellationToken);

    /// <summary>
    /// S3 metadata is immutable: MFMT copies the object onto itself with the time added, as a multipart copy so
    /// that its ETag shows listings that it carries a time (<see cref="MayCarryStoredTime"/>).
    /// </summary>
    public async Task SetStoredTimeAsync(ObjectInfo file, DateTimeOffset time, CancellationToken cancellationToken)
    {
        // The object comes from a HEAD, which carries its metadata: all of it is kept, the time added.
        var metadata = new Dictionary<string, string>(file.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            [S3Bucket.MtimeMetadata] = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        };
        await new S3ServerCopy(bucket).RunAsync(file, file.Key, (metadata, file.ContentType), cancellationToken);
    }

    public async Task PutMarkerAsync(string key, DateTimeOffset? time, CancellationToken cancellationToken)
    {
        var put = bucket.Decorate(new PutObjectRequest { BucketName = bucket.Name, Key = key, ContentType = DirectoryContentType, InputStream = new MemoryStream([]) });
        if (time is { } t)
        {
            put.Metadata.Add(S3Bucket.MtimeMetadata, t.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        }

        await bucket.Client.PutObjectAsync(put, cancellationToken);
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await bucket.Client.DeleteObjectAsync(bucket.Name, key, cancellationToken);

    public async Task DeleteAllAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        foreach (var batch in keys.Chunk(1000))
        {
            await bucket.Client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket.Name, Objects = batch.Select(k => new KeyVersion { Key = k }).ToList() }, cancellationToken);
        }
    }

    // ---- Errors ---------------------------------------------------------------------------------

    /// <summary>
    /// SDK and transport failures. Not the caller's cancellation, not <see cref="StorageException"/>, and not
    /// what the source stream (the client's data connection) throws.
    /// </summary>
    public bool IsBackendFailure(Exception exception) => exception switch
    {
        AmazonServiceException or AmazonClientException or HttpRequestException => true,
        TaskCanceledException { InnerException: TimeoutException } => true, // the SDK's own request timeout
        _ => false,
    };

    /// <summary>412; 404 NoSuchKey; and AWS's 409 ConditionalRequestConflict, a conditional write that met another one (look again).</summary>
    public bool IsStale(Exception exception) => exception is AmazonS3Exception { StatusCode: HttpStatusCode.PreconditionFailed }
        or AmazonS3Exception { StatusCode: HttpStatusCode.NotFound, ErrorCode: "NoSuchKey" }
        or AmazonS3Exception { StatusCode: HttpStatusCode.Conflict, ErrorCode: "ConditionalRequestConflict" };

    public StorageException Translate(Exception exception, StoragePath path)
    {
        if (exception is AmazonS3Exception s3)
        {
            return (s3.StatusCode, s3.ErrorCode) switch
            {
                (_, "NoSuchBucket") => new StorageException(StorageErrorKind.Unavailable, $"The bucket does not exist ({path})", exception),
                (HttpStatusCode.NotFound, _) => new StorageException(StorageErrorKind.NotFound, $"'{path}' does not exist", exception),
                (HttpStatusCode.Forbidden, _) => new StorageException(StorageErrorKind.AccessDenied, $"Access to '{path}' denied: {s3.ErrorCode}", exception),
                (HttpStatusCode.PreconditionFailed, _) or (HttpStatusCode.Conflict, "ConditionalRequestConflict")
                    => new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' changed or exists ({s3.ErrorCode})", exception),
                (HttpStatusCode.RequestedRangeNotSatisfiable, _) => new StorageException(StorageErrorKind.InvalidRange, $"Bad range on '{path}'", exception),
                (_, "EntityTooLarge" or "QuotaExceeded") => new StorageException(StorageErrorKind.InsufficientStorage, $"'{path}': {s3.ErrorCode}", exception),
                (_, "KeyTooLongError" or "InvalidObjectName") => new StorageException(StorageErrorKind.InvalidName, $"'{path}': {s3.ErrorCode}", exception),
                _ => new StorageException(StorageErrorKind.Unavailable, $"S3 error on '{path}': {s3.StatusCode} {s3.ErrorCode}", exception),
            };
        }

        return new StorageException(StorageErrorKind.Unavailable, $"S3 unreachable on '{path}': {exception.Message}", exception);
    }

    /// <summary>
    /// The body of a GetObject response; disposing it releases the HTTP response. Where the SDK hashes the body
    /// (an unranged download of an object stored in one piece), <see cref="S3Md5Check"/> checks it instead; the
    /// flexible checksums (<c>Storage:S3:ChecksumMode</c> WhenSupported) sit beneath and are still checked.
    /// </summary>
    internal static DownloadStream Download(GetObjectResponse response) =>
        new(WithOwnMd5Check(response), ex => ex is IOException or HttpRequestException, response);

    private static Stream WithOwnMd5Check(GetObjectResponse response)
    {
        if (response.ResponseStream is not MD5Stream md5)
        {
            return response.ResponseStream;
        }

        // The response releases the body without the SDK's stream, whose disposal could compare a hash it never made.
        response.ResponseStream = md5.SearchWrappedStream(s => s is not MD5Stream);
        return S3Md5Check.Over(response.ResponseStream, response.ETag, response.ContentLength, response.Key);
    }
}

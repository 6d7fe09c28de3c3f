using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using FtpGateway.Storage.ObjectStore;
using Microsoft.Extensions.Logging;

#pragma warning disable CA5351 // Content-MD5 is S3's transport integrity check, not a security use of MD5.

namespace FtpGateway.Storage.S3;

/// <summary>
/// Files as objects in one S3 bucket (AWS or any S3-compatible store), over the shared object-store rules
/// (<see cref="ObjectStoreProvider"/>). Directory markers are "dir/" objects of type application/x-directory.
/// Every write — upload, multipart upload, marker, copy for a rename or for MFMT — goes through
/// <see cref="Decorate{T}"/>, so each carries the configured storage class and encryption.
/// </summary>
public sealed class S3StorageProvider : ObjectStoreProvider, IDisposable
{
    internal const string DirectoryContentType = "application/x-directory";
    internal const string MtimeMetadata = "ftpgw-mtime";
    internal const string Sha256Metadata = "ftpgw-sha256";
    internal const long MinimumPartSize = 5L * 1024 * 1024;

    private readonly S3StorageOptions _options;
    private readonly AmazonS3Client _s3;
    private readonly string _bucket;
    private readonly S3StorageClass? _storageClass;
    private readonly ServerSideEncryptionMethod? _encryption;
    private readonly string? _kmsKeyId;
    private readonly S3StoredTimes _storedTimes = new();

    /// <summary>Validates <paramref name="options"/> (the exception names every invalid key), then creates the client.</summary>
    public S3StorageProvider(S3StorageOptions options, ILogger? logger = null)
        : this(options, configure: null, logger)
    {
    }

    /// <param name="options">the settings.</param>
    /// <param name="configure">last changes to the SDK's configuration (tests record the requests it sends).</param>
    /// <param name="logger">where the provider logs what clients are not told (names it cannot list).</param>
    /// <param name="time">the clock that ages what the gateway knows of directories.</param>
    /// <param name="parts">the part sizes, when not S3's (tests: a schedule that grows within a few parts).</param>
    internal S3StorageProvider(S3StorageOptions options, Action<AmazonS3Config>? configure, ILogger? logger = null, TimeProvider? time = null, PartSchedule? parts = null)
        : base(
            ObjectStoreSettings.Validated(
                options?.Validate() ?? throw new ArgumentNullException(nameof(options)),
                () => new(options.KeyPrefix, parts ?? Schedule(options.PartSize), options.MaxConcurrentParts, options.MaxRenameObjects)
                {
                    DirectoryCacheDuration = options.DirectoryCacheDuration,
                    MaxKeyLength = 1024,
                    KeyLengthInBytes = true,
                }),
            logger,
            time)
    {
        _options = options;
        _s3 = CreateClient(options, configure);
        _bucket = options.Bucket;
        _storageClass = string.IsNullOrEmpty(options.StorageClass) ? null : S3StorageClass.FindValue(options.StorageClass);
        _encryption = string.IsNullOrEmpty(options.ServerSideEncryption) ? null : ServerSideEncryptionMethod.FindValue(options.ServerSideEncryption);
        _kmsKeyId = _encryption is null || string.IsNullOrEmpty(options.KmsKeyId) ? null : options.KmsKeyId;
    }

    public override string Name => "S3";

    /// <summary>S3's limits: 10,000 parts of at most 5 GiB, objects of at most 5 TiB. Parts grow so that an upload can reach 5 TiB.</summary>
    internal static PartSchedule Schedule(long firstPartSize) => new(firstPartSize, 5L << 30, 10_000, 5L << 40);

    /// <summary>SHA-256 and MD5 come from what was stored with the object where possible, else from one streamed read.</summary>
    public override IReadOnlyList<string> HashAlgorithms { get; } = [Hashing.Sha256, Hashing.Md5];

    public static IAmazonS3 CreateClient(S3StorageOptions options) => CreateClient(options, configure: null);

    private static AmazonS3Client CreateClient(S3StorageOptions options, Action<AmazonS3Config>? configure)
    {
        ArgumentNullException.ThrowIfNull(options);
        var whenRequired = options.ChecksumMode == S3ChecksumMode.WhenRequired;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = whenRequired ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED,
            ResponseChecksumValidation = whenRequired ? ResponseChecksumValidation.WHEN_REQUIRED : ResponseChecksumValidation.WHEN_SUPPORTED,
            TelemetryProvider = ActivityTracerProvider.Telemetry, // each S3 call a span (source AWSSDK.S3)
        };
        var region = string.IsNullOrWhiteSpace(options.Region) ? "us-east-1" : options.Region;
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        configure?.Invoke(config);
        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    public void Dispose() => _s3.Dispose();

    // ---- Reading --------------------------------------------------------------------------------

    protected override string MarkerKey(StoragePath directory) => DirectoryPrefix(directory);

    protected override async Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, cancellationToken);
            var etag = head.ETag?.Trim('"');
            return new ObjectInfo(key, head.ContentLength, Utc(head.LastModified), head.ETag)
            {
                IsDirectoryMarker = key.EndsWith('/'),
                Metadata = head.Metadata.Keys.ToDictionary(MetadataName, name => head.Metadata[name], StringComparer.OrdinalIgnoreCase),
                ContentType = head.Headers.ContentType,
                StoredTime = StoredTime(head.Metadata[MtimeMetadata]),
                Sha256 = head.Metadata[Sha256Metadata] is { Length: 64 } sha ? Convert.FromHexString(sha) : null,

                // A single-part upload without SSE-KMS has its MD5 as ETag.
                Md5 = etag is { Length: 32 } && !etag.Contains('-', StringComparison.Ordinal) && head.ServerSideEncryptionMethod != ServerSideEncryptionMethod.AWSKMS
                    ? Convert.FromHexString(etag)
                    : null,
            };
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    protected override bool ListingStartIsInclusive => false;

    protected override async IAsyncEnumerable<ObjectListPage> ListPagesAsync(string prefix, bool delimited, int? pageSize, string? startAt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? continuation = null;
        do
        {
            var page = await _s3.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, Delimiter = delimited ? "/" : null, ContinuationToken = continuation, MaxKeys = pageSize, StartAfter = startAt },
                cancellationToken);
            var objects = (page.S3Objects ?? []).Select(o => new ObjectInfo(o.Key, o.Size ?? 0, Utc(o.LastModified), o.ETag) { IsDirectoryMarker = o.Key.EndsWith('/') }).ToList();
            yield return new ObjectListPage(objects, page.CommonPrefixes ?? []) { Truncated = page.IsTruncated == true };
            continuation = page.IsTruncated == true && pageSize is null ? page.NextContinuationToken : null;
        }
        while (continuation is not null);
    }

    /// <summary>
    /// The MFMT times of listed files, from their metadata: a HEAD (16 at a time) for each version not looked at
    /// before, and with ListingModificationTime=Metadata only for files whose ETag says they may carry one.
    /// </summary>
    protected override async Task<IReadOnlyList<ObjectInfo>> CompleteListingAsync(IReadOnlyList<ObjectInfo> files, CancellationToken cancellationToken)
    {
        if (_options.ListingModificationTime == S3ListingTime.LastModified)
        {
            return files;
        }

        var everyFile = _options.ListingModificationTime == S3ListingTime.MetadataEveryFile;
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
                var head = await HeadAsync(files[i].Key, ct);
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

    protected override async Task<Stream?> OpenAsync(string key, long offset, CancellationToken cancellationToken)
    {
        var request = new GetObjectRequest { BucketName = _bucket, Key = key };
        if (offset > 0)
        {
            request.ByteRange = new ByteRange($"bytes={offset.ToString(CultureInfo.InvariantCulture)}-");
        }

        try
        {
            return Download(await _s3.GetObjectAsync(request, cancellationToken));
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

    protected override async Task ProbeStoreAsync(CancellationToken cancellationToken) =>
        await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = DirectoryPrefix(StoragePath.Root), MaxKeys = 1 }, cancellationToken);

    // ---- Writing --------------------------------------------------------------------------------

    /// <summary>
    /// What every write carries: the configured storage class, server-side encryption and KMS key. The one
    /// place they are set, for every request that creates an object.
    /// </summary>
    internal T Decorate<T>(T request)
        where T : AmazonWebServiceRequest
    {
        switch (request)
        {
            case PutObjectRequest put:
                (put.StorageClass, put.ServerSideEncryptionMethod, put.ServerSideEncryptionKeyManagementServiceKeyId) = (_storageClass, _encryption, _kmsKeyId);
                break;
            case InitiateMultipartUploadRequest init:
                (init.StorageClass, init.ServerSideEncryptionMethod, init.ServerSideEncryptionKeyManagementServiceKeyId) = (_storageClass, _encryption, _kmsKeyId);
                break;
            case CopyObjectRequest copy:
                (copy.StorageClass, copy.ServerSideEncryptionMethod, copy.ServerSideEncryptionKeyManagementServiceKeyId) = (_storageClass, _encryption, _kmsKeyId);
                break;
            default:
                throw new ArgumentException($"{typeof(T).Name} does not create an object", nameof(request));
        }

        return request;
    }

    public override string? Locate(StoragePath path) => $"s3://{_bucket}/{Key(path)}";

    public override string Describe() =>
        $"S3 bucket '{_bucket}' at {(string.IsNullOrWhiteSpace(_options.ServiceUrl) ? $"AWS region {(string.IsNullOrWhiteSpace(_options.Region) ? "us-east-1" : _options.Region)}" : _options.ServiceUrl)}";

    protected override async Task PutAsync(string key, PartContent content, WriteCondition condition, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var put = Decorate(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = content.OpenRead(),
            ContentType = "application/octet-stream",
            MD5Digest = ContentMd5(content),
            DisableDefaultChecksumValidation = SignedPayloadSuffices,
            IfNoneMatch = condition.IfNoneMatch ? "*" : null,
            IfMatch = Unquoted(condition.IfMatch),
        });
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        content.AppendTo(sha256);
        put.Metadata.Add(Sha256Metadata, Convert.ToHexStringLower(sha256.GetHashAndReset()));
        foreach (var (name, value) in metadata ?? new Dictionary<string, string>())
        {
            put.Metadata.Add(S3MetadataName(name), value);
        }

        await _s3.PutObjectAsync(put, cancellationToken);
    }

    protected override async Task<MultipartWrite> BeginMultipartAsync(string key, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        // Not cancelled half-way: the store could create the upload and we would never learn its id to abort it.
        var write = await InitiateMultipartAsync(
            key, "application/octet-stream", metadata?.Select(m => KeyValuePair.Create(S3MetadataName(m.Key), m.Value)), CancellationToken.None);
        if (cancellationToken.IsCancellationRequested)
        {
            await write.AbortAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }

        return write;
    }

    /// <summary>
    /// A kept prefix of 5 MiB or more (S3's smallest part) is copied server-side, pinned to the existing
    /// object's ETag (UploadPartCopy); a shorter one is read back and sent again in the first part.
    /// </summary>
    protected override async Task<KeptPrefix> KeepPrefixAsync(ObjectInfo existing, long keep, CancellationToken cancellationToken)
    {
        if (keep >= MinimumPartSize)
        {
            return new KeptPrefix(S3ServerCopy.Ranges(keep).Select(r => new KeptPart(r.First, r.Length) { SourceETag = existing.ETag }).ToList(), null);
        }

        var response = await _s3.GetObjectAsync(
            new GetObjectRequest { BucketName = _bucket, Key = existing.Key, ByteRange = new ByteRange(0, keep - 1), EtagToMatch = existing.ETag },
            cancellationToken);
        return new KeptPrefix([], Download(response));
    }

    /// <summary>Server-side copy: one CopyObject up to 5 GiB (metadata copied along), a multipart copy above.</summary>
    protected override Task CopyAsync(ObjectInfo source, string targetKey, CancellationToken cancellationToken) =>
        new S3ServerCopy(this).RunAsync(source, targetKey, replaceMetadata: null, cancellationToken);

    /// <summary>
    /// S3 metadata is immutable: MFMT copies the object onto itself with the time added, as a multipart copy so
    /// that its ETag shows listings that it carries a time (<see cref="MayCarryStoredTime"/>).
    /// </summary>
    protected override async Task SetStoredTimeAsync(ObjectInfo file, DateTimeOffset time, CancellationToken cancellationToken)
    {
        // The object comes from a HEAD, which carries its metadata: all of it is kept, the time added.
        var metadata = new Dictionary<string, string>(file.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            [MtimeMetadata] = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        };
        await new S3ServerCopy(this).RunAsync(file, file.Key, (metadata, file.ContentType), cancellationToken);
    }

    protected override async Task PutMarkerAsync(string key, DateTimeOffset? time, CancellationToken cancellationToken)
    {
        var put = Decorate(new PutObjectRequest { BucketName = _bucket, Key = key, ContentType = DirectoryContentType, InputStream = new MemoryStream([]) });
        if (time is { } t)
        {
            put.Metadata.Add(MtimeMetadata, t.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        }

        await _s3.PutObjectAsync(put, cancellationToken);
    }

    protected override async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _s3.DeleteObjectAsync(_bucket, key, cancellationToken);

    protected override async Task DeleteAllAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        foreach (var batch in keys.Chunk(1000))
        {
            await _s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = _bucket, Objects = batch.Select(k => new KeyVersion { Key = k }).ToList() }, cancellationToken);
        }
    }

    // ---- For S3MultipartWrite and S3ServerCopy ---------------------------------------------------

    /// <summary>Starts a multipart upload in the configured class and encryption, with these S3 metadata names and values.</summary>
    internal async Task<S3MultipartWrite> InitiateMultipartAsync(
        string key, string? contentType, IEnumerable<KeyValuePair<string, string>>? metadata, CancellationToken cancellationToken, string? sourceKey = null)
    {
        var init = Decorate(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key, ContentType = contentType });
        foreach (var (name, value) in metadata ?? [])
        {
            init.Metadata.Add(name, value);
        }

        return new S3MultipartWrite(this, key, (await _s3.InitiateMultipartUploadAsync(init, cancellationToken)).UploadId, sourceKey);
    }

    /// <summary>HEAD of an object, for the copy (which must see its metadata).</summary>
    internal Task<ObjectInfo?> HeadObjectAsync(string key, CancellationToken cancellationToken) => HeadAsync(key, cancellationToken);

    internal IAmazonS3 Client => _s3;

    internal string Bucket => _bucket;

    /// <summary>
    /// Per-request integrity. With ChecksumMode=WhenSupported the SDK adds its CRC32 checksum to every PutObject
    /// and UploadPart, which S3 verifies. Stores that need WhenRequired get Content-MD5, which every S3
    /// implementation verifies (BadDigest) — except over plain HTTP, where SigV4 signs the payload itself (the
    /// SHA-256 of every chunk is in the signature, which the store verifies), and an MD5 would hash every byte a
    /// second time for nothing.
    /// </summary>
    internal string? ContentMd5(ReadOnlySpan<byte> content) =>
        _options.ChecksumMode == S3ChecksumMode.WhenRequired && !SignedPayloadSuffices ? Convert.ToBase64String(MD5.HashData(content)) : null;

    /// <inheritdoc cref="ContentMd5(ReadOnlySpan{byte})"/>
    internal string? ContentMd5(PartContent content) =>
        _options.ChecksumMode == S3ChecksumMode.WhenRequired && !SignedPayloadSuffices ? Convert.ToBase64String(content.Md5()) : null;

    /// <summary>
    /// WhenRequired over plain HTTP: the SDK signs every payload (SigV4 allows no unsigned payload without TLS),
    /// so neither a Content-MD5 nor the SDK's own MD5 of every upload (compared with the ETag) adds a check.
    /// </summary>
    internal bool SignedPayloadSuffices =>
        _options.ChecksumMode == S3ChecksumMode.WhenRequired && _options.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true;

    // ---- Mapping and errors ---------------------------------------------------------------------

    /// <summary>
    /// An ETag for a conditional write, without its quotes: AWS compares either form, Ceph radosgw only this one
    /// (quoted, it refuses every write with 412).
    /// </summary>
    internal static string? Unquoted(string? etag) => etag?.Trim('"');

    /// <summary>The SDK names user metadata "x-amz-meta-name"; requests take the bare name.</summary>
    /// <summary>Underscores become hyphens: several S3 stores and proxies drop or rewrite header names with underscores.</summary>
    private static string S3MetadataName(string name) => name.Replace('_', '-');

    private static string MetadataName(string name) =>
        name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? name["x-amz-meta-".Length..] : name;

    private static DateTimeOffset? Utc(DateTime? time) =>
        time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t.ToUniversalTime(), DateTimeKind.Utc)) : null;

    private static DateTimeOffset? StoredTime(string? value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>
    /// SDK and transport failures. Not the caller's cancellation, not <see cref="StorageException"/>, and not
    /// what the source stream (the client's data connection) throws.
    /// </summary>
    protected override bool IsBackendFailure(Exception exception) => exception switch
    {
        AmazonServiceException or AmazonClientException or HttpRequestException => true,
        TaskCanceledException { InnerException: TimeoutException } => true, // the SDK's own request timeout
        _ => false,
    };

    protected override StorageException Translate(Exception exception, StoragePath path)
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

    /// <summary>The body of a GetObject response; disposing it releases the HTTP response.</summary>
    private static DownloadStream Download(GetObjectResponse response) =>
        new(response.ResponseStream, ex => ex is IOException or HttpRequestException, response);
}

using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace FtpGateway.Storage.S3;

/// <summary>
/// Files as objects in one S3 bucket (AWS or any S3-compatible store). A path maps to a key under the
/// configured prefix; directories are "dir/" marker objects (content type application/x-directory) or simply
/// prefixes that have objects under them. Uploads stream: one PutObject when the data fits in the first part,
/// otherwise a multipart upload with a bounded number of pooled part buffers in flight; the object becomes
/// visible only when the upload completes, and every failure aborts the multipart upload.
/// </summary>
public sealed class S3StorageProvider : IStorageProvider, IDisposable
{
    internal const string DirectoryContentType = "application/x-directory";
    internal const string MtimeMetadata = "ftpgw-mtime";
    internal const string Sha256Metadata = "ftpgw-sha256";
    private const long MinimumPartSize = 5L * 1024 * 1024;
    private const long MaximumCopyPartSize = 5L * 1024 * 1024 * 1024;
    private const int MaximumParts = 10_000;

    private readonly S3StorageOptions _options;
    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly string _prefix;

    // What every new object is written with (Decorate); null leaves the bucket's default.
    private readonly S3StorageClass? _storageClass;
    private readonly ServerSideEncryptionMethod? _encryption;
    private readonly string? _kmsKeyId;

    /// <summary>Validates <paramref name="options"/> (the exception names every invalid key), then creates the client.</summary>
    public S3StorageProvider(S3StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        _options = options;
        _s3 = CreateClient(options);

        // The provider's own pool: the shared one keeps large arrays in per-thread and per-core caches, and part
        // buffers rented and returned on different threads piled up there (221 MiB peak for one 1 GiB upload).
        Buffers = ArrayPool<byte>.Create(options.PartSize, maxArraysPerBucket: options.MaxConcurrentParts * 4);
        _bucket = options.Bucket;
        _prefix = options.KeyPrefix;
        _storageClass = string.IsNullOrEmpty(options.StorageClass) ? null : S3StorageClass.FindValue(options.StorageClass);
        _encryption = string.IsNullOrEmpty(options.ServerSideEncryption) ? null : ServerSideEncryptionMethod.FindValue(options.ServerSideEncryption);
        _kmsKeyId = _encryption is null || string.IsNullOrEmpty(options.KmsKeyId) ? null : options.KmsKeyId;
    }

    public string Name => "S3";

    /// <summary>Rename is a copy then a delete: not atomic for readers.</summary>
    public StorageCapabilities Capabilities =>
        StorageCapabilities.Append | StorageCapabilities.ResumeUpload | StorageCapabilities.SetModificationTime;

    /// <summary>SHA-256 and MD5 come from what was stored with the object where possible, else from one streamed read.</summary>
    public IReadOnlyList<string> HashAlgorithms { get; } = [Hashing.Sha256, Hashing.Md5];

    public static IAmazonS3 CreateClient(S3StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var whenRequired = options.ChecksumMode == "WhenRequired";
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

        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    // ---- Reading ------------------------------------------------------------------------------

    public async ValueTask<StorageEntry?> GetEntryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot)
        {
            return new StorageEntry(path, true, 0, null);
        }

        return await Call(path, async () =>
        {
            var head = await HeadAsync(Key(path), cancellationToken);
            return head is not null ? FileEntry(path, head.ContentLength, head.LastModified, head.Metadata) : await DirectoryEntryAsync(path, cancellationToken);
        });
    }

    public async IAsyncEnumerable<StorageEntry> ListAsync(StoragePath directory, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = DirectoryKey(directory);
        string? continuation = null;
        var first = true;
        do
        {
            var page = await Call(directory, () => _s3.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, Delimiter = "/", ContinuationToken = continuation },
                cancellationToken));
            var objects = page.S3Objects ?? [];
            var prefixes = page.CommonPrefixes ?? [];
            if (first && !directory.IsRoot && objects.Count == 0 && prefixes.Count == 0)
            {
                // Nothing under the prefix, not even a marker: a file of that name, or nothing.
                throw await Call(directory, async () => await HeadAsync(Key(directory), cancellationToken)) is not null
                    ? new StorageException(StorageErrorKind.NotADirectory, $"'{directory}' is a file")
                    : StorageException.NotFound(directory);
            }

            first = false;
            foreach (var common in prefixes)
            {
                if (TryChild(directory, common[prefix.Length..].TrimEnd('/'), out var child))
                {
                    yield return new StorageEntry(child, true, 0, null);
                }
            }

            var files = objects.Where(o => o.Key != prefix && !o.Key.EndsWith('/')).ToList();
            var metadata = _options.ListingModificationTime == "Metadata"
                ? await HeadAllAsync(files, cancellationToken)
                : null;
            for (var i = 0; i < files.Count; i++)
            {
                if (TryChild(directory, files[i].Key[prefix.Length..], out var child))
                {
                    yield return FileEntry(child, files[i].Size ?? 0, files[i].LastModified, metadata?[i]);
                }
            }

            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);
    }

    /// <summary>HEADs a listing page's objects (bounded concurrency) for the times MFMT stored in their metadata.</summary>
    private async Task<MetadataCollection?[]> HeadAllAsync(List<S3Object> objects, CancellationToken cancellationToken)
    {
        var result = new MetadataCollection?[objects.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, objects.Count),
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var head = await Call(StoragePath.Root, () => HeadAsync(objects[i].Key, ct));
                result[i] = head?.Metadata;
            });
        return result;
    }

    public async ValueTask<Stream> OpenReadAsync(StoragePath path, long offset, CancellationToken cancellationToken)
    {
        var key = Key(path);
        try
        {
            var request = new GetObjectRequest { BucketName = _bucket, Key = key };
            if (offset > 0)
            {
                request.ByteRange = new ByteRange($"bytes={offset.ToString(CultureInfo.InvariantCulture)}-");
            }

            var response = await _s3.GetObjectAsync(request, cancellationToken);
            return new ResponseStream(response);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw await DirectoryEntryAsync(path, cancellationToken) is not null
                ? new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory", ex)
                : StorageException.NotFound(path);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // S3 refuses a range that starts at the end; for REST n with n == size that is an empty file.
            var head = await HeadAsync(key, cancellationToken);
            return head is not null && head.ContentLength == offset
                ? new MemoryStream([], writable: false)
                : throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {offset} is beyond the end of '{path}'", ex);
        }
        catch (Exception ex) when (IsBackendFailure(ex, cancellationToken))
        {
            throw Translate(ex, path);
        }
    }

    // ---- Writing ------------------------------------------------------------------------------

    public async ValueTask<StorageEntry> UploadAsync(UploadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path;
        if (path.IsRoot)
        {
            throw new StorageException(StorageErrorKind.IsADirectory, "Cannot upload to the root");
        }

        var key = Key(path);
        await Call(path, async () =>
        {
            // Both checks at once: on an object store each is a round trip, and they are independent.
            var isDirectory = HasChildrenAsync(key + "/", cancellationToken);
            var parentExists = path.Parent.IsRoot ? Task.FromResult(true) : HasChildrenAsync(DirectoryKey(path.Parent), cancellationToken);
            await Task.WhenAll(isDirectory, parentExists);
            if (!parentExists.Result)
            {
                throw new StorageException(StorageErrorKind.NotFound, $"The directory of '{path}' does not exist");
            }

            if (isDirectory.Result)
            {
                throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
            }

            return true;
        });

        // What of the existing object is kept in front of the new data (APPE, REST+STOR).
        long keep = 0;
        string? keepETag = null;
        if (request.Mode is UploadMode.Append or UploadMode.Resume or UploadMode.CreateNew)
        {
            var head = await Call(path, () => HeadAsync(key, cancellationToken));
            if (request.Mode == UploadMode.CreateNew && head is not null)
            {
                throw new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists");
            }

            if (request.Mode == UploadMode.Append && head is not null)
            {
                keep = head.ContentLength;
            }

            if (request.Mode == UploadMode.Resume && request.Offset > 0)
            {
                keep = head is not null && request.Offset <= head.ContentLength
                    ? request.Offset
                    : throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {request.Offset} is beyond the end of '{path}'");
            }

            keepETag = head?.ETag;
        }

        var upload = new S3Upload(this, key, request, cancellationToken);
        return await Call(path, async () =>
        {
            var size = await upload.RunAsync(keep, keepETag);
            return new StorageEntry(path, false, size, DateTimeOffset.UtcNow);
        });
    }

    public async ValueTask DeleteFileAsync(StoragePath path, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            if (path.IsRoot || await HeadAsync(Key(path), cancellationToken) is null)
            {
                throw await DirectoryEntryAsync(path, cancellationToken) is not null
                    ? new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory")
                    : StorageException.NotFound(path);
            }

            await _s3.DeleteObjectAsync(_bucket, Key(path), cancellationToken);
            return true;
        });

    public async ValueTask CreateDirectoryAsync(StoragePath path, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            if (path.IsRoot || await GetEntryAsync(path, cancellationToken) is not null)
            {
                throw new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists");
            }

            await RequireParentAsync(path, cancellationToken);
            await PutMarkerAsync(path, null, cancellationToken);
            return true;
        });

    public async ValueTask DeleteDirectoryAsync(StoragePath path, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            if (path.IsRoot)
            {
                throw new StorageException(StorageErrorKind.AccessDenied, "The root cannot be removed");
            }

            var marker = DirectoryKey(path);
            var page = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = marker, MaxKeys = 2 }, cancellationToken);
            var keys = (page.S3Objects ?? []).Select(o => o.Key).ToList();
            if (keys.Count == 0)
            {
                throw await HeadAsync(Key(path), cancellationToken) is not null
                    ? new StorageException(StorageErrorKind.NotADirectory, $"'{path}' is a file")
                    : StorageException.NotFound(path);
            }

            if (keys.Any(k => k != marker))
            {
                throw new StorageException(StorageErrorKind.DirectoryNotEmpty, $"'{path}' is not empty");
            }

            await _s3.DeleteObjectAsync(_bucket, marker, cancellationToken);
            return true;
        });

    public async ValueTask RenameAsync(StoragePath source, StoragePath target, CancellationToken cancellationToken) =>
        await Call(source, async () =>
        {
            if (source.IsRoot || target.IsRoot)
            {
                throw new StorageException(StorageErrorKind.AccessDenied, "The root cannot be renamed");
            }

            if (source == target)
            {
                return true;
            }

            await RequireParentAsync(target, cancellationToken);
            var file = await HeadAsync(Key(source), cancellationToken);
            if (file is not null)
            {
                if (await HasChildrenAsync(DirectoryKey(target), cancellationToken))
                {
                    throw new StorageException(StorageErrorKind.IsADirectory, $"'{target}' is a directory");
                }

                await CopyAsync(Key(source), Key(target), file.ContentLength, null, cancellationToken);
                await _s3.DeleteObjectAsync(_bucket, Key(source), cancellationToken);
                return true;
            }

            if (await DirectoryEntryAsync(source, cancellationToken) is null)
            {
                throw StorageException.NotFound(source);
            }

            if (source.Contains(target))
            {
                throw new StorageException(StorageErrorKind.InvalidName, $"Cannot move '{source}' into itself");
            }

            if (await GetEntryAsync(target, cancellationToken) is not null)
            {
                throw new StorageException(StorageErrorKind.AlreadyExists, $"'{target}' exists");
            }

            await RenameDirectoryAsync(DirectoryKey(source), DirectoryKey(target), cancellationToken);
            return true;
        });

    /// <summary>
    /// Copies every object under the source prefix, then deletes the originals in batches. Refused up front
    /// when there are more objects than <see cref="S3StorageOptions.MaxRenameObjects"/>.
    /// </summary>
    private async Task RenameDirectoryAsync(string from, string to, CancellationToken cancellationToken)
    {
        var objects = new List<(string Key, long Size)>();
        string? continuation = null;
        do
        {
            var page = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = from, ContinuationToken = continuation }, cancellationToken);
            objects.AddRange((page.S3Objects ?? []).Select(o => (o.Key, o.Size ?? 0)));
            if (objects.Count > _options.MaxRenameObjects)
            {
                throw new StorageException(StorageErrorKind.LimitExceeded, $"Renaming '{from}' would copy more than {_options.MaxRenameObjects} objects");
            }

            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);

        await Parallel.ForEachAsync(objects, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (o, ct) =>
            await CopyAsync(o.Key, to + o.Key[from.Length..], o.Size, null, ct));
        foreach (var batch in objects.Chunk(1000))
        {
            await _s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = _bucket, Objects = batch.Select(o => new KeyVersion { Key = o.Key }).ToList() }, cancellationToken);
        }
    }

    public async ValueTask SetModificationTimeAsync(StoragePath path, DateTimeOffset time, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            var key = Key(path);
            var head = await HeadAsync(key, cancellationToken);
            if (head is null)
            {
                if (await DirectoryEntryAsync(path, cancellationToken) is null)
                {
                    throw StorageException.NotFound(path);
                }

                // A directory: its marker carries the time (created if the directory was only implied).
                await PutMarkerAsync(path, time, cancellationToken);
                return true;
            }

            // S3 metadata is immutable: copy the object onto itself with the metadata replaced.
            var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var name in head.Metadata.Keys)
            {
                metadata[name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? name["x-amz-meta-".Length..] : name] = head.Metadata[name];
            }

            metadata[MtimeMetadata] = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            await CopyAsync(key, key, head.ContentLength, (metadata, head.Headers.ContentType), cancellationToken);
            return true;
        });

    public async ValueTask<byte[]> GetHashAsync(StoragePath path, string algorithm, CancellationToken cancellationToken)
    {
        var head = await Call(path, () => HeadAsync(Key(path), cancellationToken)) ?? throw StorageException.NotFound(path);
        if (algorithm == Hashing.Sha256 && head.Metadata[Sha256Metadata] is { Length: 64 } stored)
        {
            return Convert.FromHexString(stored);
        }

        // A single-part upload without SSE-KMS has its MD5 as ETag.
        var etag = head.ETag?.Trim('"');
        if (algorithm == Hashing.Md5 && etag is { Length: 32 } && !etag.Contains('-', StringComparison.Ordinal) && head.ServerSideEncryptionMethod != ServerSideEncryptionMethod.AWSKMS)
        {
            return Convert.FromHexString(etag);
        }

        // Otherwise one streamed read through the hash: bounded memory, the cost of a download.
        await using var stream = await OpenReadAsync(path, 0, cancellationToken);
        return await Hashing.ComputeAsync(stream, algorithm, cancellationToken);
    }

    public async ValueTask ProbeAsync(CancellationToken cancellationToken) =>
        await Call(StoragePath.Root, () => _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix, MaxKeys = 1 }, cancellationToken));

    public void Dispose() => _s3.Dispose();

    // ---- Helpers used by S3Upload -------------------------------------------------------------

    internal IAmazonS3 Client => _s3;

    /// <summary>Part buffers, shared by this provider's uploads; at most (parts in flight + 1) per upload are rented.</summary>
    internal ArrayPool<byte> Buffers { get; }

    /// <summary>
    /// Per-part integrity. With ChecksumMode=WhenSupported the SDK already adds a CRC32 checksum to every
    /// PutObject and UploadPart (its default), which S3 verifies. Stores that need WhenRequired get Content-MD5,
    /// which every S3 implementation verifies (BadDigest).
    /// </summary>
    internal void Protect(PutObjectRequest request, byte[] buffer, int length)
    {
        if (_options.ChecksumMode == "WhenRequired")
        {
            request.MD5Digest = Md5Base64(buffer, length);
        }
    }

    internal void Protect(UploadPartRequest request, byte[] buffer, int length)
    {
        if (_options.ChecksumMode == "WhenRequired")
        {
            request.MD5Digest = Md5Base64(buffer, length);
        }
    }

#pragma warning disable CA5351 // Content-MD5 is S3's transport integrity check, not a security use of MD5.
    private static string Md5Base64(byte[] buffer, int length) => Convert.ToBase64String(MD5.HashData(buffer.AsSpan(0, length)));
#pragma warning restore CA5351

    internal string Bucket => _bucket;

    internal S3StorageOptions Options => _options;

    internal void Decorate(PutObjectRequest request)
    {
        request.StorageClass = _storageClass;
        request.ServerSideEncryptionMethod = _encryption;
        request.ServerSideEncryptionKeyManagementServiceKeyId = _kmsKeyId;
    }

    internal void Decorate(InitiateMultipartUploadRequest request)
    {
        request.StorageClass = _storageClass;
        request.ServerSideEncryptionMethod = _encryption;
        request.ServerSideEncryptionKeyManagementServiceKeyId = _kmsKeyId;
    }

    /// <summary>
    /// Server-side copy: one CopyObject up to 5 GiB, a multipart copy above. <paramref name="replace"/> sets
    /// new metadata and content type (a copy onto itself must change something).
    /// </summary>
    internal async Task CopyAsync(string from, string to, long size, (Dictionary<string, string> Metadata, string? ContentType)? replace, CancellationToken cancellationToken)
    {
        if (size <= MaximumCopyPartSize)
        {
            var copy = new CopyObjectRequest { SourceBucket = _bucket, SourceKey = from, DestinationBucket = _bucket, DestinationKey = to };
            if (replace is { } r)
            {
                copy.MetadataDirective = S3MetadataDirective.REPLACE;
                copy.ContentType = r.ContentType;
                foreach (var (name, value) in r.Metadata)
                {
                    copy.Metadata.Add(name, value);
                }
            }

            if (!string.IsNullOrEmpty(_options.ServerSideEncryption))
            {
                copy.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(_options.ServerSideEncryption);
            }

            await _s3.CopyObjectAsync(copy, cancellationToken);
            return;
        }

        var init = new InitiateMultipartUploadRequest { BucketName = _bucket, Key = to };
        Decorate(init);
        var head = replace is null ? await HeadAsync(from, cancellationToken) : null;
        foreach (var (name, value) in replace?.Metadata ?? [])
        {
            init.Metadata.Add(name, value);
        }

        init.ContentType = replace?.ContentType ?? head?.Headers.ContentType;
        if (head is not null)
        {
            foreach (var name in head.Metadata.Keys)
            {
                init.Metadata.Add(name, head.Metadata[name]);
            }
        }

        var uploadId = (await _s3.InitiateMultipartUploadAsync(init, cancellationToken)).UploadId;
        try
        {
            var parts = await CopyPartsAsync(from, to, uploadId, size, 1, cancellationToken);
            await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = to, UploadId = uploadId, PartETags = parts }, cancellationToken);
        }
        catch
        {
            await AbortQuietlyAsync(to, uploadId);
            throw;
        }
    }

    /// <summary>UploadPartCopy of bytes [0, length) of <paramref name="from"/>, in equal parts of at most 5 GiB.</summary>
    internal async Task<List<PartETag>> CopyPartsAsync(string from, string to, string uploadId, long length, int firstPart, CancellationToken cancellationToken, string? ifMatch = null)
    {
        var count = (int)((length + MaximumCopyPartSize - 1) / MaximumCopyPartSize);
        var partSize = (length + count - 1) / count;
        var parts = new List<PartETag>();
        for (var i = 0; i < count; i++)
        {
            var first = i * partSize;
            var last = Math.Min(length, first + partSize) - 1;
            var response = await _s3.CopyPartAsync(
                new CopyPartRequest
                {
                    SourceBucket = _bucket,
                    SourceKey = from,
                    DestinationBucket = _bucket,
                    DestinationKey = to,
                    UploadId = uploadId,
                    PartNumber = firstPart + i,
                    FirstByte = first,
                    LastByte = last,
                    ETagToMatch = ifMatch is null ? null : [ifMatch],
                },
                cancellationToken);
            parts.Add(new PartETag(firstPart + i, response.ETag));
        }

        return parts;
    }

    internal async Task AbortQuietlyAsync(string key, string uploadId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId }, timeout.Token);
        }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or OperationCanceledException or IOException)
        {
            // The bucket's lifecycle rule for incomplete multipart uploads is the backstop (README).
        }
    }

    internal static long MinimumPart => MinimumPartSize;

    internal static int MaxParts => MaximumParts;

    // ---- Mapping --------------------------------------------------------------------------------

    /// <summary>The one place a path becomes a key: under the prefix, no leading slash.</summary>
    private string Key(StoragePath path) => _prefix + path.Value[1..];

    /// <summary>The key prefix of a directory's children, which is also its marker's key ("dir/").</summary>
    private string DirectoryKey(StoragePath path) => path.IsRoot ? _prefix : Key(path) + "/";

    private static bool TryChild(StoragePath directory, string name, out StoragePath child)
    {
        child = default;
        if (name.Length == 0 || name is "." or ".." || name.Contains('\\', StringComparison.Ordinal) || name.Any(char.IsControl))
        {
            return false; // a key FTP cannot address: not listed
        }

        child = directory.Child(name);
        return true;
    }

    private static StorageEntry FileEntry(StoragePath path, long size, DateTime? lastModified, MetadataCollection? metadata)
    {
        DateTimeOffset? time = lastModified is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t.ToUniversalTime(), DateTimeKind.Utc)) : null;
        if (metadata?[MtimeMetadata] is { } stored && long.TryParse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
        {
            time = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }

        return new StorageEntry(path, false, size, time);
    }

    private async Task<GetObjectMetadataResponse?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>A directory exists when its marker or any object lies under its prefix.</summary>
    private async Task<StorageEntry?> DirectoryEntryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot)
        {
            return new StorageEntry(path, true, 0, null);
        }

        var page = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = DirectoryKey(path), MaxKeys = 1 }, cancellationToken);
        var first = page.S3Objects?.FirstOrDefault();
        return first is null ? null : new StorageEntry(path, true, 0, first.Key == DirectoryKey(path) ? first.LastModified : null);
    }

    private async Task<bool> HasChildrenAsync(string prefix, CancellationToken cancellationToken)
    {
        var page = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, MaxKeys = 1 }, cancellationToken);
        return page.S3Objects is { Count: > 0 };
    }

    private async Task RequireParentAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (!path.Parent.IsRoot && !await HasChildrenAsync(DirectoryKey(path.Parent), cancellationToken))
        {
            throw new StorageException(StorageErrorKind.NotFound, $"The directory of '{path}' does not exist");
        }
    }

    private async Task PutMarkerAsync(StoragePath path, DateTimeOffset? time, CancellationToken cancellationToken)
    {
        var put = new PutObjectRequest { BucketName = _bucket, Key = DirectoryKey(path), ContentType = DirectoryContentType, InputStream = new MemoryStream([]) };
        if (time is { } t)
        {
            put.Metadata.Add(MtimeMetadata, t.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        }

        Decorate(put);
        await _s3.PutObjectAsync(put, cancellationToken);
    }

    // ---- Errors ---------------------------------------------------------------------------------

    /// <summary>Runs a backend call and turns the SDK's failures into <see cref="StorageException"/>.</summary>
    private static async Task<T> Call<T>(StoragePath path, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (IsBackendFailure(ex, CancellationToken.None))
        {
            throw Translate(ex, path);
        }
    }

    /// <summary>
    /// SDK and transport failures. Not the caller's cancellation, not <see cref="StorageException"/>, and not
    /// what the source stream (the client's data connection) throws.
    /// </summary>
    internal static bool IsBackendFailure(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        AmazonServiceException or AmazonClientException or HttpRequestException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested && ex is TaskCanceledException { InnerException: TimeoutException },
        _ => false,
    };

    internal static StorageException Translate(Exception ex, StoragePath path)
    {
        if (ex is AmazonS3Exception s3)
        {
            return (s3.StatusCode, s3.ErrorCode) switch
            {
                (_, "NoSuchBucket") => new StorageException(StorageErrorKind.Unavailable, $"The bucket does not exist ({path})", ex),
                (HttpStatusCode.NotFound, _) => new StorageException(StorageErrorKind.NotFound, $"'{path}' does not exist", ex),
                (HttpStatusCode.Forbidden, _) => new StorageException(StorageErrorKind.AccessDenied, $"Access to '{path}' denied: {s3.ErrorCode}", ex),
                (HttpStatusCode.PreconditionFailed, _) => new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' changed or exists", ex),
                (HttpStatusCode.RequestedRangeNotSatisfiable, _) => new StorageException(StorageErrorKind.InvalidRange, $"Bad range on '{path}'", ex),
                (_, "EntityTooLarge" or "QuotaExceeded") => new StorageException(StorageErrorKind.InsufficientStorage, $"'{path}': {s3.ErrorCode}", ex),
                (_, "KeyTooLongError" or "InvalidObjectName") => new StorageException(StorageErrorKind.InvalidName, $"'{path}': {s3.ErrorCode}", ex),
                _ => new StorageException(StorageErrorKind.Unavailable, $"S3 error on '{path}': {s3.StatusCode} {s3.ErrorCode}", ex),
            };
        }

        return new StorageException(StorageErrorKind.Unavailable, $"S3 unreachable on '{path}': {ex.Message}", ex);
    }

    /// <summary>The body of a GetObject response; disposing it releases the HTTP response.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : ReadOnlyStream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override long Length => response.ContentLength;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await _inner.ReadAsync(buffer, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                throw new StorageException(StorageErrorKind.Unavailable, "The S3 download broke off", ex);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

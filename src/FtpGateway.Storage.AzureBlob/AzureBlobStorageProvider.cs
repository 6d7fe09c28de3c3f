using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FtpGateway.Storage.ObjectStore;
using Microsoft.Extensions.Logging;

#pragma warning disable CA5351 // Content-MD5 is Azure's transport and content integrity check, not a security use of MD5.

namespace FtpGateway.Storage.AzureBlob;

/// <summary>
/// Files as block blobs in one container, over the shared object-store rules (<see cref="ObjectStoreProvider"/>).
/// Directory markers are zero-length blobs with <c>hdi_isfolder=true</c> metadata (the convention Azure's own
/// tools use). Large uploads stage blocks with unique random ids and commit the block list only when complete;
/// uncommitted blocks expire on their own. Every write — upload, commit, marker, copy for a rename — goes
/// through <see cref="Decorate{T}"/>, so each carries the configured access tier.
/// </summary>
public sealed class AzureBlobStorageProvider : ObjectStoreProvider
{
    internal const string FolderMetadata = "hdi_isfolder";
    internal const string MtimeMetadata = "ftpgw_mtime";

    private readonly BlobContainerClient _container;
    private readonly AccessTier? _tier;

    /// <summary>Validates <paramref name="options"/> (the exception names every invalid key), then creates the client.</summary>
    /// <param name="options">the settings.</param>
    /// <param name="logger">where the provider logs what clients are not told (names it cannot list).</param>
    /// <param name="time">the clock that ages what the gateway knows of directories.</param>
    public AzureBlobStorageProvider(AzureBlobStorageOptions options, ILogger? logger = null, TimeProvider? time = null)
        : this(options, logger, time, parts: null)
    {
    }

    /// <param name="options">the settings.</param>
    /// <param name="logger">where the provider logs what clients are not told.</param>
    /// <param name="time">the clock that ages what the gateway knows of directories.</param>
    /// <param name="parts">the block sizes, when not Azure's (tests: a schedule that grows within a few blocks).</param>
    internal AzureBlobStorageProvider(AzureBlobStorageOptions options, ILogger? logger, TimeProvider? time, PartSchedule? parts)
        : base(
            ObjectStoreSettings.Validated(
                options?.Validate() ?? throw new ArgumentNullException(nameof(options)),
                () => new(options.NamePrefix, parts ?? Schedule(options.BlockSize), options.MaxConcurrentBlocks, options.MaxRenameObjects)
                {
                    DirectoryCacheDuration = options.DirectoryCacheDuration,
                    MaxKeyLength = 1024,
                }),
            logger,
            time)
    {
        _container = CreateContainerClient(options);
        _tier = string.IsNullOrEmpty(options.AccessTier) ? (AccessTier?)null : new AccessTier(options.AccessTier);
    }

    public override string Name => "AzureBlob";

    /// <summary>
    /// Azure's limits: 50,000 blocks of at most 4,000 MiB. The full 190.7 TiB would need every block at its largest
    /// from the start (8 GB of memory per upload); blocks grow instead so that an upload can reach 100 TiB, at the
    /// same memory per volume as S3's schedule.
    /// </summary>
    internal static PartSchedule Schedule(long firstBlockSize) => new(firstBlockSize, 4000L << 20, 50_000, 100L << 40);

    public override string? Locate(StoragePath path) => _container.GetBlobClient(Key(path)).Uri.ToString();

    public override string Describe() => $"Azure container '{_container.Name}' at {_container.Uri.GetLeftPart(UriPartial.Authority)}";

    /// <summary>MD5 from the blob's Content-MD5 when set (every upload made here sets it), else from one streamed read.</summary>
    public override IReadOnlyList<string> HashAlgorithms { get; } = [Hashing.Md5, Hashing.Sha256];

    public static BlobContainerClient CreateContainerClient(AzureBlobStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Retries ride out blips; with these a store that is gone is reported (451) within about 10 s.
        var clientOptions = new BlobClientOptions();
        clientOptions.Retry.MaxRetries = 3;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(500);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(4);
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(60);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new BlobServiceClient(options.ConnectionString, clientOptions).GetBlobContainerClient(options.Container);
        }

        var uri = new Uri(options.ServiceUri!);
        var service = uri.Query.Contains("sig=", StringComparison.Ordinal)
            ? new BlobServiceClient(uri, clientOptions) // a SAS carries its own authorization
            : new BlobServiceClient(uri, new DefaultAzureCredential(), clientOptions);
        return service.GetBlobContainerClient(options.Container);
    }

    // ---- Reading --------------------------------------------------------------------------------

    protected override string MarkerKey(StoragePath directory) => Key(directory);

    protected override async Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var p = (await _container.GetBlobClient(key).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return Info(key, p.ContentLength, p.LastModified, p.ETag, p.Metadata) with
            {
                Md5 = p.ContentHash is { Length: 16 } md5 ? md5 : null,
                Metadata = new Dictionary<string, string>(p.Metadata, StringComparer.OrdinalIgnoreCase),
                ContentType = p.ContentType,
            };
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound && ex.ErrorCode != "ContainerNotFound")
        {
            return null;
        }
    }

    protected override bool ListingStartIsInclusive => true;

    /// <summary>Every committed blob gets its Content-MD5 (HASH and XMD5 answer from it).</summary>
    protected override bool KeepsWholeObjectMd5 => true;

    protected override async IAsyncEnumerable<ObjectListPage> ListPagesAsync(string prefix, bool delimited, int? pageSize, string? startAt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (delimited)
        {
            var options = new GetBlobsByHierarchyOptions { Traits = BlobTraits.Metadata, Delimiter = "/", Prefix = prefix, StartFrom = startAt };
            await foreach (var page in _container.GetBlobsByHierarchyAsync(options, cancellationToken).AsPages(pageSizeHint: pageSize))
            {
                yield return new ObjectListPage(
                    page.Values.Where(i => i.IsBlob).Select(i => Info(i.Blob)).ToList(),
                    page.Values.Where(i => i.IsPrefix).Select(i => i.Prefix).ToList())
                {
                    Truncated = !string.IsNullOrEmpty(page.ContinuationToken),
                };
                if (pageSize is not null)
                {
                    yield break;
                }
            }

            yield break;
        }

        await foreach (var page in _container.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = prefix, StartFrom = startAt }, cancellationToken).AsPages(pageSizeHint: pageSize))
        {
            yield return new ObjectListPage(page.Values.Select(Info).ToList(), []) { Truncated = !string.IsNullOrEmpty(page.ContinuationToken) };
            if (pageSize is not null)
            {
                yield break;
            }
        }
    }

    protected override async Task<Stream?> OpenAsync(string key, long offset, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _container.GetBlobClient(key).DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(offset) }, cancellationToken);
            if (IsFolder(response.Value.Details.Metadata))
            {
                await response.Value.Content.DisposeAsync();
                throw new StorageException(StorageErrorKind.IsADirectory, $"'{key}' is a directory");
            }

            return Download(response.Value.Content);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound && ex.ErrorCode != "ContainerNotFound")
        {
            return null;
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {offset} is beyond the end of '{key}'", ex);
        }
    }

    protected override async Task ProbeStoreAsync(CancellationToken cancellationToken)
    {
        if (!await _container.ExistsAsync(cancellationToken))
        {
            throw new StorageException(StorageErrorKind.Unavailable, $"The container '{_container.Name}' does not exist");
        }
    }

    // ---- Writing --------------------------------------------------------------------------------

    /// <summary>What every write carries: the configured access tier. The one place it is set.</summary>
    private T Decorate<T>(T options)
        where T : class
    {
        switch (options)
        {
            case BlobUploadOptions upload:
                upload.AccessTier = _tier;
                break;
            case CommitBlockListOptions commit:
                commit.AccessTier = _tier;
                break;
            case BlobCopyFromUriOptions copy:
                copy.AccessTier = _tier;
                break;
            default:
                throw new ArgumentException($"{typeof(T).Name} does not create a blob", nameof(options));
        }

        return options;
    }

    /// <summary>
    /// A small upload in one Put Blob, its MD5 checked by the service and stored as Content-MD5. The SDK sends one
    /// Put Blob only for content shorter than its single-upload threshold, hence the threshold one byte above
    /// the length (at the length itself it staged a block and committed it: two requests per small file).
    /// </summary>
    protected override async Task PutAsync(string key, PartContent content, WriteCondition condition, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var options = Decorate(new BlobUploadOptions
        {
            Metadata = metadata?.ToDictionary(),
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream", ContentHash = content.Md5() },
            Conditions = Conditions(condition),
            TransferOptions = new StorageTransferOptions { InitialTransferSize = content.Length + 1L, MaximumConcurrency = 1 },
            TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
        });
        await _container.GetBlockBlobClient(key).UploadAsync(content.OpenRead(), options, cancellationToken);
    }

    protected override Task<MultipartWrite> BeginMultipartAsync(string key, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken) =>
        Task.FromResult<MultipartWrite>(new AzureBlockWrite(this, _container.GetBlockBlobClient(key), metadata));

    /// <summary>
    /// The existing blob's committed blocks that lie wholly inside the kept range stay as they are (no data moves);
    /// a block kept only in part is read back and staged again. A blob written without blocks (Put Blob) is
    /// read back for the kept range.
    /// </summary>
    protected override async Task<KeptPrefix> KeepPrefixAsync(ObjectInfo existing, long keep, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlockBlobClient(existing.Key);
        // The commit is conditional on the existing blob's ETag, so a list read here from a newer version fails there.
        var list = (await blob.GetBlockListAsync(BlockListTypes.Committed, cancellationToken: cancellationToken)).Value;
        var reused = new List<KeptPart>();
        long reusedBytes = 0;
        int? idLength = null;
        foreach (var block in list.CommittedBlocks ?? [])
        {
            // All block ids of a blob must have the same length.
            if (reusedBytes + block.SizeLong > keep || AzureBlockWrite.IdLength(block.Name) is not { } length || (idLength is not null && length != idLength))
            {
                break;
            }

            idLength = length;
            reused.Add(new KeptPart(reusedBytes, block.SizeLong) { BlockId = block.Name });
            reusedBytes += block.SizeLong;
        }

        Stream? remainder = null;
        if (reusedBytes < keep)
        {
            var download = await blob.DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(reusedBytes, keep - reusedBytes), Conditions = new BlobRequestConditions { IfMatch = new ETag(existing.ETag!) } },
                cancellationToken);
            remainder = Download(download.Value.Content);
        }

        return new KeptPrefix(reused, remainder);
    }

    internal Task CommitAsync(BlockBlobClient blob, IEnumerable<string> ids, WriteCondition condition, byte[]? md5, IReadOnlyDictionary<string, string>? metadata) =>
        blob.CommitBlockListAsync(
            ids,
            Decorate(new CommitBlockListOptions
            {
                Metadata = metadata?.ToDictionary(),
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream", ContentHash = md5 },
                Conditions = Conditions(condition),
            }),
            CancellationToken.None);

    /// <summary>A server-side copy within the account, polled to completion (synchronous for small blobs on Azure).</summary>
    protected override async Task CopyAsync(ObjectInfo source, string targetKey, CancellationToken cancellationToken)
    {
        var operation = await _container.GetBlobClient(targetKey).StartCopyFromUriAsync(
            _container.GetBlobClient(source.Key).Uri,
            Decorate(new BlobCopyFromUriOptions()),
            cancellationToken);
        await operation.WaitForCompletionAsync(TimeSpan.FromMilliseconds(250), cancellationToken);
    }

    /// <summary>MFMT: the time goes into the blob's metadata, on the version seen (a changed blob fails).</summary>
    protected override async Task SetStoredTimeAsync(ObjectInfo file, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string>(file.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            [MtimeMetadata] = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        };
        await _container.GetBlobClient(file.Key).SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = new ETag(file.ETag!) }, cancellationToken);
    }

    protected override async Task PutMarkerAsync(string key, DateTimeOffset? time, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string> { [FolderMetadata] = "true" };
        if (time is { } t)
        {
            metadata[MtimeMetadata] = t.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        }

        await _container.GetBlockBlobClient(key).UploadAsync(new MemoryStream([]), Decorate(new BlobUploadOptions { Metadata = metadata }), cancellationToken);
    }

    /// <summary>Deleting what another client deleted a moment ago succeeds, as it does on S3.</summary>
    protected override async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _container.GetBlobClient(key).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    protected override async Task DeleteAllAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (key, ct) =>
            await _container.GetBlobClient(key).DeleteIfExistsAsync(cancellationToken: ct));

    // ---- Mapping and errors ---------------------------------------------------------------------

    private static ObjectInfo Info(BlobItem item) =>
        Info(item.Name, item.Properties.ContentLength ?? 0, item.Properties.LastModified, item.Properties.ETag, item.Metadata);

    private static ObjectInfo Info(string key, long size, DateTimeOffset? lastModified, ETag? etag, IDictionary<string, string>? metadata) =>
        new(key, size, lastModified, etag?.ToString())
        {
            IsDirectoryMarker = IsFolder(metadata),
            StoredTime = metadata is not null && metadata.TryGetValue(MtimeMetadata, out var stored) && long.TryParse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : null,
        };

    private static bool IsFolder(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(FolderMetadata, out var v) && v.Equals("true", StringComparison.OrdinalIgnoreCase);

    private static BlobRequestConditions? Conditions(WriteCondition condition) =>
        condition.IfNoneMatch ? new BlobRequestConditions { IfNoneMatch = ETag.All }
        : condition.IfMatch is { } etag ? new BlobRequestConditions { IfMatch = new ETag(etag) }
        : null;

    /// <summary>SDK and transport failures (the SDK wraps exhausted retries in an AggregateException).</summary>
    protected override bool IsBackendFailure(Exception exception) => exception switch
    {
        RequestFailedException or HttpRequestException => true,
        AggregateException agg => agg.InnerExceptions.All(e => e is RequestFailedException or HttpRequestException or IOException or TaskCanceledException),
        _ => false,
    };

    protected override StorageException Translate(Exception exception, StoragePath path) => exception is RequestFailedException r
        ? (r.Status, r.ErrorCode) switch
        {
            (_, "ContainerNotFound") => new StorageException(StorageErrorKind.Unavailable, $"The container does not exist ({path})", exception),
            (404, _) => new StorageException(StorageErrorKind.NotFound, $"'{path}' does not exist", exception),
            (403, _) => new StorageException(StorageErrorKind.AccessDenied, $"Access to '{path}' denied: {r.ErrorCode}", exception),
            (409, _) or (412, _) => new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists or changed: {r.ErrorCode}", exception),
            (416, _) => new StorageException(StorageErrorKind.InvalidRange, $"Bad range on '{path}'", exception),
            (413, _) => new StorageException(StorageErrorKind.InsufficientStorage, $"'{path}': {r.ErrorCode}", exception),
            (400, "InvalidBlobOrBlock" or "InvalidResourceName" or "OutOfRangeInput") => new StorageException(StorageErrorKind.InvalidName, $"'{path}': {r.ErrorCode}", exception),
            _ => new StorageException(StorageErrorKind.Unavailable, $"Azure error on '{path}': {r.Status} {r.ErrorCode}", exception),
        }
        : new StorageException(StorageErrorKind.Unavailable, $"Azure unreachable on '{path}': {exception.Message}", exception);

    private static DownloadStream Download(Stream content) =>
        new(content, ex => ex is IOException or HttpRequestException or RequestFailedException);
}

using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FtpGateway.Storage.ObjectStore;

#pragma warning disable CA5351 // Content-MD5 is Azure's transport and content integrity check, not a security use of MD5.

namespace FtpGateway.Storage.AzureBlob;

/// <summary>
/// The primitives of one container of block blobs. Directory markers are zero-length blobs with
/// <c>hdi_isfolder=true</c> metadata (the convention Azure's own tools use). Large uploads stage blocks with unique
/// random ids and commit the block list only when complete (<see cref="AzureBlockWrite"/>); uncommitted blocks
/// expire on their own. Every write — upload, commit, marker, copy for a rename — goes through
/// <see cref="AzureContainer.Decorate{T}"/>, so each carries the configured access tier.
/// </summary>
internal sealed class AzureObjectStore(AzureContainer container) : IObjectStore
{
    internal const string FolderMetadata = "hdi_isfolder";
    internal const string MtimeMetadata = "ftpgw_mtime";

    private readonly BlobContainerClient _container = container.Client;

    public string Name => "AzureBlob";

    public string Locate(string key) => _container.GetBlobClient(key).Uri.ToString();

    public string Describe() => $"Azure container '{_container.Name}' at {_container.Uri.GetLeftPart(UriPartial.Authority)}";

    /// <summary>MD5 from the blob's Content-MD5 when set (every upload made here sets it), else from one streamed read.</summary>
    public IReadOnlyList<string> HashAlgorithms { get; } = [Hashing.Md5, Hashing.Sha256];

    // ---- Reading --------------------------------------------------------------------------------

    public string MarkerKey(string directoryKey) => directoryKey;

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var p = (await _container.GetBlobClient(key).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return Described(key, p.ContentLength, p.LastModified, p.ETag, p.Metadata, p.ContentHash, p.ContentType);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound && ex.ErrorCode != "ContainerNotFound")
        {
            return null;
        }
    }

    public bool ListingStartIsInclusive => true;

    /// <summary>Every committed blob gets its Content-MD5 (HASH and XMD5 answer from it).</summary>
    public bool KeepsWholeObjectMd5 => true;

    public async IAsyncEnumerable<ObjectListPage> ListPagesAsync(string prefix, bool delimited, int? pageSize, string? startAt, [EnumeratorCancellation] CancellationToken cancellationToken)
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

    /// <summary>Listings carry the metadata (the MFMT time among it): nothing more to look up.</summary>
    public Task<IReadOnlyList<ObjectInfo>> CompleteListingAsync(IReadOnlyList<ObjectInfo> files, CancellationToken cancellationToken) => Task.FromResult(files);

    public async Task<Stream?> OpenAsync(string key, long offset, CancellationToken cancellationToken)
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

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        if (!await _container.ExistsAsync(cancellationToken))
        {
            throw new StorageException(StorageErrorKind.Unavailable, $"The container '{_container.Name}' does not exist");
        }
    }

    // ---- Writing --------------------------------------------------------------------------------

    /// <summary>
    /// A small upload in one Put Blob, its MD5 checked by the service and stored as Content-MD5. The SDK sends one
    /// Put Blob only for content shorter than its single-upload threshold, hence the threshold one byte above
    /// the length (at the length itself it staged a block and committed it: two requests per small file).
    /// </summary>
    public async Task<ObjectInfo?> PutAsync(string key, PartContent content, WriteCondition condition, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var options = container.Decorate(new BlobUploadOptions
        {
            Metadata = metadata?.ToDictionary(),
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream", ContentHash = content.Md5() },
            Conditions = AzureContainer.Conditions(condition),
            TransferOptions = new StorageTransferOptions { InitialTransferSize = content.Length + 1L, MaximumConcurrency = 1 },
            TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
        });
        var stored = (await _container.GetBlockBlobClient(key).UploadAsync(content.OpenRead(), options, cancellationToken)).Value;
        return Described(key, content.Length, stored.LastModified, stored.ETag, options.Metadata ?? new Dictionary<string, string>(), stored.ContentHash, options.HttpHeaders.ContentType);
    }

    public Task<IMultipartWrite> BeginMultipartAsync(string key, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken) =>
        Task.FromResult<IMultipartWrite>(new AzureBlockWrite(container, _container.GetBlockBlobClient(key), metadata));

    /// <summary>
    /// The existing blob's committed blocks that lie wholly inside the kept range stay as they are (no data moves);
    /// a block kept only in part is read back and staged again. A blob written without blocks (Put Blob) is
    /// read back for the kept range.
    /// </summary>
    public async Task<KeptPrefix> KeepPrefixAsync(ObjectInfo existing, long keep, CancellationToken cancellationToken)
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

    /// <summary>A server-side copy within the account, polled to completion (synchronous for small blobs on Azure).</summary>
    public async Task CopyAsync(ObjectInfo source, string targetKey, CancellationToken cancellationToken)
    {
        var operation = await _container.GetBlobClient(targetKey).StartCopyFromUriAsync(
            _container.GetBlobClient(source.Key).Uri,
            container.Decorate(new BlobCopyFromUriOptions()),
            cancellationToken);
        await operation.WaitForCompletionAsync(TimeSpan.FromMilliseconds(250), cancellationToken);
    }

    /// <summary>MFMT: the time goes into the blob's metadata, on the version seen (a changed blob fails).</summary>
    public async Task SetStoredTimeAsync(ObjectInfo file, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string>(file.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            [MtimeMetadata] = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        };
        await _container.GetBlobClient(file.Key).SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = new ETag(file.ETag!) }, cancellationToken);
    }

    public async Task PutMarkerAsync(string key, DateTimeOffset? time, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string> { [FolderMetadata] = "true" };
        if (time is { } t)
        {
            metadata[MtimeMetadata] = t.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        }

        await _container.GetBlockBlobClient(key).UploadAsync(new MemoryStream([]), container.Decorate(new BlobUploadOptions { Metadata = metadata }), cancellationToken);
    }

    /// <summary>Deleting what another client deleted a moment ago succeeds, as it does on S3.</summary>
    public async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _container.GetBlobClient(key).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    public async Task DeleteAllAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
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
            Sha256 = metadata is not null && metadata.TryGetValue(ObjectMetadata.Sha256, out var sha) ? ObjectMetadata.ReadSha256(sha) : null,
        };

    /// <summary>A blob as a HEAD describes it: with its metadata, MD5 and content type.</summary>
    private static ObjectInfo Described(string key, long size, DateTimeOffset lastModified, ETag etag, IDictionary<string, string> metadata, byte[]? md5, string? contentType) =>
        Info(key, size, lastModified, etag, metadata) with
        {
            Md5 = md5 is { Length: 16 } ? md5 : null,
            Metadata = new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase),
            ContentType = contentType,
        };

    private static bool IsFolder(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(FolderMetadata, out var v) && v.Equals("true", StringComparison.OrdinalIgnoreCase);

    /// <summary>SDK and transport failures (the SDK wraps exhausted retries in an AggregateException).</summary>
    public bool IsBackendFailure(Exception exception) => exception switch
    {
        RequestFailedException or HttpRequestException => true,
        AggregateException agg => agg.InnerExceptions.All(e => e is RequestFailedException or HttpRequestException or IOException or TaskCanceledException),
        _ => false,
    };

    public bool IsStale(Exception exception) =>
        exception is RequestFailedException { Status: 412, ErrorCode: "ConditionNotMet" } or RequestFailedException { Status: 404, ErrorCode: "BlobNotFound" };

    public StorageException Translate(Exception exception, StoragePath path) => exception is RequestFailedException r
        ? (r.Status, r.ErrorCode) switch
        {
            (_, "ContainerNotFound") => new StorageException(StorageErrorKind.Unavailable, $"The container does not exist ({path})", exception),
            (404, _) => new StorageException(StorageErrorKind.NotFound, $"'{path}' does not exist", exception),
            (409, "BlobImmutableDueToPolicy" or "BlobImmutableDueToLegalHold") =>
                new StorageException(StorageErrorKind.Retained, $"'{path}' is under the container's immutability policy: {r.ErrorCode}", exception),
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

using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace FtpGateway.Storage.AzureBlob;

/// <summary>
/// Files as block blobs in one container. A path maps to a blob name under the configured prefix; directories
/// are zero-length marker blobs with <c>hdi_isfolder=true</c> metadata (the convention Azure's own tools use) or
/// prefixes that have blobs under them. Uploads stage blocks with unique random ids and commit the block list
/// only when the transfer is complete: nothing is visible before, and uncommitted blocks expire on their own.
/// </summary>
public sealed class AzureBlobStorageProvider : IStorageProvider
{
    internal const string FolderMetadata = "hdi_isfolder";
    internal const string MtimeMetadata = "ftpgw_mtime";

    private readonly AzureBlobStorageOptions _options;
    private readonly BlobContainerClient _container;
    private readonly string _prefix;

    /// <summary>Validates <paramref name="options"/> (the exception names every invalid key), then creates the client.</summary>
    public AzureBlobStorageProvider(AzureBlobStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        _options = options;
        _container = CreateContainerClient(options);
        _prefix = options.NamePrefix;
        Buffers = ArrayPool<byte>.Create(options.BlockSize, maxArraysPerBucket: options.MaxConcurrentBlocks * 4);
    }

    public string Name => "AzureBlob";

    /// <summary>Rename is a server-side copy then a delete: not atomic for readers.</summary>
    public StorageCapabilities Capabilities =>
        StorageCapabilities.Append | StorageCapabilities.ResumeUpload | StorageCapabilities.SetModificationTime;

    /// <summary>MD5 from the blob's Content-MD5 when set (every upload made here sets it), else from one streamed read.</summary>
    public IReadOnlyList<string> HashAlgorithms { get; } = [Hashing.Md5, Hashing.Sha256];

    internal ArrayPool<byte> Buffers { get; }

    internal AzureBlobStorageOptions Options => _options;

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

    // ---- Reading ------------------------------------------------------------------------------

    public async ValueTask<StorageEntry?> GetEntryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot)
        {
            return new StorageEntry(path, true, 0, null);
        }

        return await Call(path, async () =>
        {
            var properties = await PropertiesAsync(BlobName(path), cancellationToken);
            if (properties is not null)
            {
                return IsFolder(properties.Metadata)
                    ? new StorageEntry(path, true, 0, Time(properties.LastModified, properties.Metadata))
                    : new StorageEntry(path, false, properties.ContentLength, Time(properties.LastModified, properties.Metadata));
            }

            return await HasChildrenAsync(DirectoryPrefix(path), cancellationToken) ? new StorageEntry(path, true, 0, null) : null;
        });
    }

    public async IAsyncEnumerable<StorageEntry> ListAsync(StoragePath directory, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = DirectoryPrefix(directory);
        if (!directory.IsRoot)
        {
            var self = await GetEntryAsync(directory, cancellationToken);
            if (self is null || !self.IsDirectory)
            {
                throw self is null ? StorageException.NotFound(directory) : new StorageException(StorageErrorKind.NotADirectory, $"'{directory}' is a file");
            }
        }

        // A folder can show up twice: as its marker blob and as the prefix of its children.
        var folders = new HashSet<string>(StringComparer.Ordinal);
        var pages = _container.GetBlobsByHierarchyAsync(
            new GetBlobsByHierarchyOptions { Traits = BlobTraits.Metadata, Delimiter = "/", Prefix = prefix },
            cancellationToken).AsPages();
        await using var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        while (await Call(directory, async () => await enumerator.MoveNextAsync()))
        {
            foreach (var item in enumerator.Current.Values)
            {
                var name = item.IsPrefix ? item.Prefix[prefix.Length..].TrimEnd('/') : item.Blob.Name[prefix.Length..];
                if (!TryChild(directory, name, out var child))
                {
                    continue;
                }

                if (item.IsPrefix || IsFolder(item.Blob.Metadata))
                {
                    if (folders.Add(name))
                    {
                        yield return new StorageEntry(child, true, 0, item.IsPrefix ? null : Time(item.Blob.Properties.LastModified, item.Blob.Metadata));
                    }
                }
                else
                {
                    yield return new StorageEntry(child, false, item.Blob.Properties.ContentLength ?? 0, Time(item.Blob.Properties.LastModified, item.Blob.Metadata));
                }
            }
        }
    }

    public async ValueTask<Stream> OpenReadAsync(StoragePath path, long offset, CancellationToken cancellationToken)
    {
        var blob = Blob(path);
        try
        {
            var response = await blob.DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(offset) }, cancellationToken);
            if (IsFolder(response.Value.Details.Metadata))
            {
                await response.Value.Content.DisposeAsync();
                throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
            }

            return new DownloadStream(response.Value.Content);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound)
        {
            throw await HasChildrenAsync(DirectoryPrefix(path), cancellationToken)
                ? new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory", ex)
                : StorageException.NotFound(path);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            var properties = await PropertiesAsync(blob.Name, cancellationToken);
            return properties is not null && properties.ContentLength == offset
                ? new MemoryStream([], writable: false)
                : throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {offset} is beyond the end of '{path}'", ex);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
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

        var blob = BlockBlob(path);
        var existing = await Call(path, async () =>
        {
            // Independent round trips, at once: the parent, children under the name, the blob itself.
            var parent = path.Parent.IsRoot ? Task.FromResult<StorageEntry?>(new StorageEntry(path.Parent, true, 0, null)) : GetEntryAsync(path.Parent, cancellationToken).AsTask();
            var children = HasChildrenAsync(DirectoryPrefix(path), cancellationToken);
            var properties = PropertiesAsync(blob.Name, cancellationToken);
            await Task.WhenAll(parent, children, properties);
            if (parent.Result is not { IsDirectory: true })
            {
                throw new StorageException(StorageErrorKind.NotFound, $"The directory of '{path}' does not exist");
            }

            if (children.Result || (properties.Result is { } p && IsFolder(p.Metadata)))
            {
                throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
            }

            return properties.Result;
        });

        if (request.Mode == UploadMode.CreateNew && existing is not null)
        {
            throw new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists");
        }

        long keep = request.Mode switch
        {
            UploadMode.Append => existing?.ContentLength ?? 0,
            UploadMode.Resume when request.Offset > 0 => existing is not null && request.Offset <= existing.ContentLength
                ? request.Offset
                : throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {request.Offset} is beyond the end of '{path}'"),
            _ => 0,
        };

        var upload = new AzureUpload(this, blob, request, cancellationToken);
        var size = await Call(path, () => upload.RunAsync(keep, existing?.ETag));
        return new StorageEntry(path, false, size, DateTimeOffset.UtcNow);
    }

    public async ValueTask DeleteFileAsync(StoragePath path, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            var entry = await GetEntryAsync(path, cancellationToken);
            if (entry is null || entry.IsDirectory)
            {
                throw entry is null ? StorageException.NotFound(path) : new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
            }

            await Blob(path).DeleteAsync(cancellationToken: cancellationToken);
            return true;
        });

    public async ValueTask CreateDirectoryAsync(StoragePath path, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            if (path.IsRoot || await GetEntryAsync(path, cancellationToken) is not null)
            {
                throw new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists");
            }

            if (!path.Parent.IsRoot && await GetEntryAsync(path.Parent, cancellationToken) is not { IsDirectory: true })
            {
                throw new StorageException(StorageErrorKind.NotFound, $"The directory of '{path}' does not exist");
            }

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

            var entry = await GetEntryAsync(path, cancellationToken);
            if (entry is null || !entry.IsDirectory)
            {
                throw entry is null ? StorageException.NotFound(path) : new StorageException(StorageErrorKind.NotADirectory, $"'{path}' is a file");
            }

            if (await HasChildrenAsync(DirectoryPrefix(path), cancellationToken))
            {
                throw new StorageException(StorageErrorKind.DirectoryNotEmpty, $"'{path}' is not empty");
            }

            await Blob(path).DeleteIfExistsAsync(cancellationToken: cancellationToken);
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

            var from = await GetEntryAsync(source, cancellationToken) ?? throw StorageException.NotFound(source);
            if (!target.Parent.IsRoot && await GetEntryAsync(target.Parent, cancellationToken) is not { IsDirectory: true })
            {
                throw new StorageException(StorageErrorKind.NotFound, $"The directory of '{target}' does not exist");
            }

            var to = await GetEntryAsync(target, cancellationToken);
            if (!from.IsDirectory)
            {
                if (to is { IsDirectory: true })
                {
                    throw new StorageException(StorageErrorKind.IsADirectory, $"'{target}' is a directory");
                }

                await CopyAsync(BlobName(source), BlobName(target), cancellationToken);
                await Blob(source).DeleteAsync(cancellationToken: cancellationToken);
                return true;
            }

            if (source.Contains(target))
            {
                throw new StorageException(StorageErrorKind.InvalidName, $"Cannot move '{source}' into itself");
            }

            if (to is not null)
            {
                throw new StorageException(StorageErrorKind.AlreadyExists, $"'{target}' exists");
            }

            await RenameDirectoryAsync(source, target, cancellationToken);
            return true;
        });

    /// <summary>Copies the marker and every blob under the prefix, then deletes the originals; refused up front above the limit.</summary>
    private async Task RenameDirectoryAsync(StoragePath source, StoragePath target, CancellationToken cancellationToken)
    {
        var fromPrefix = DirectoryPrefix(source);
        var toPrefix = DirectoryPrefix(target);
        var names = new List<(string From, string To)>();
        if (await PropertiesAsync(BlobName(source), cancellationToken) is not null)
        {
            names.Add((BlobName(source), BlobName(target)));
        }

        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = fromPrefix }, cancellationToken))
        {
            names.Add((item.Name, toPrefix + item.Name[fromPrefix.Length..]));
            if (names.Count > _options.MaxRenameObjects)
            {
                throw new StorageException(StorageErrorKind.LimitExceeded, $"Renaming '{source}' would copy more than {_options.MaxRenameObjects} blobs");
            }
        }

        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (n, ct) =>
            await CopyAsync(n.From, n.To, ct));
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (n, ct) =>
            await _container.GetBlobClient(n.From).DeleteIfExistsAsync(cancellationToken: ct));
    }

    /// <summary>A server-side copy within the account, polled to completion (synchronous for small blobs on Azure).</summary>
    private async Task CopyAsync(string from, string to, CancellationToken cancellationToken)
    {
        var operation = await _container.GetBlobClient(to).StartCopyFromUriAsync(_container.GetBlobClient(from).Uri, cancellationToken: cancellationToken);
        await operation.WaitForCompletionAsync(TimeSpan.FromMilliseconds(250), cancellationToken);
    }

    public async ValueTask SetModificationTimeAsync(StoragePath path, DateTimeOffset time, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            var blob = Blob(path);
            var properties = await PropertiesAsync(blob.Name, cancellationToken);
            if (properties is null)
            {
                if (!await HasChildrenAsync(DirectoryPrefix(path), cancellationToken))
                {
                    throw StorageException.NotFound(path);
                }

                await PutMarkerAsync(path, time, cancellationToken); // an implied directory gets a marker to carry the time
                return true;
            }

            var metadata = new Dictionary<string, string>(properties.Metadata, StringComparer.OrdinalIgnoreCase)
            {
                [MtimeMetadata] = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            };
            await blob.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = properties.ETag }, cancellationToken);
            return true;
        });

    public async ValueTask<byte[]> GetHashAsync(StoragePath path, string algorithm, CancellationToken cancellationToken)
    {
        var properties = await Call(path, () => PropertiesAsync(BlobName(path), cancellationToken)) ?? throw StorageException.NotFound(path);
        if (algorithm == Hashing.Md5 && properties.ContentHash is { Length: 16 } md5)
        {
            return md5;
        }

        await using var stream = await OpenReadAsync(path, 0, cancellationToken);
        return await Hashing.ComputeAsync(stream, algorithm, cancellationToken);
    }

    public async ValueTask ProbeAsync(CancellationToken cancellationToken) =>
        await Call(StoragePath.Root, async () =>
        {
            if (!await _container.ExistsAsync(cancellationToken))
            {
                throw new StorageException(StorageErrorKind.Unavailable, $"The container '{_container.Name}' does not exist");
            }

            return true;
        });

    // ---- Mapping and helpers --------------------------------------------------------------------

    /// <summary>The one place a path becomes a blob name: under the prefix, no leading slash.</summary>
    private string BlobName(StoragePath path) => _prefix + path.Value[1..];

    private string DirectoryPrefix(StoragePath path) => path.IsRoot ? _prefix : BlobName(path) + "/";

    private BlobClient Blob(StoragePath path) => _container.GetBlobClient(BlobName(path));

    private BlockBlobClient BlockBlob(StoragePath path) => _container.GetBlockBlobClient(BlobName(path));

    internal BlobContainerClient Container => _container;

    private static bool IsFolder(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(FolderMetadata, out var v) && v.Equals("true", StringComparison.OrdinalIgnoreCase);

    private static DateTimeOffset? Time(DateTimeOffset? lastModified, IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(MtimeMetadata, out var stored) && long.TryParse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : lastModified;

    private static bool TryChild(StoragePath directory, string name, out StoragePath child)
    {
        child = default;
        if (name.Length == 0 || name is "." or ".." || name.Contains('\\', StringComparison.Ordinal) || name.Contains('/', StringComparison.Ordinal) || name.Any(char.IsControl))
        {
            return false; // a name FTP cannot address: not listed
        }

        child = directory.Child(name);
        return true;
    }

    private async Task<BlobProperties?> PropertiesAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await _container.GetBlobClient(name).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound && ex.ErrorCode != "ContainerNotFound")
        {
            return null;
        }
    }

    private async Task<bool> HasChildrenAsync(string prefix, CancellationToken cancellationToken)
    {
        await foreach (var page in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).AsPages(pageSizeHint: 1))
        {
            return page.Values.Count > 0;
        }

        return false;
    }

    private async Task PutMarkerAsync(StoragePath path, DateTimeOffset? time, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string> { [FolderMetadata] = "true" };
        if (time is { } t)
        {
            metadata[MtimeMetadata] = t.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        }

        await BlockBlob(path).UploadAsync(new MemoryStream([]), new BlobUploadOptions { Metadata = metadata }, cancellationToken);
    }

    // ---- Errors ---------------------------------------------------------------------------------

    private static async Task<T> Call<T>(StoragePath path, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Translate(ex, path);
        }
    }

    /// <summary>SDK and transport failures (the SDK wraps exhausted retries in an AggregateException).</summary>
    internal static bool IsBackendFailure(Exception ex) => ex switch
    {
        RequestFailedException or HttpRequestException => true,
        AggregateException agg => agg.InnerExceptions.All(e => e is RequestFailedException or HttpRequestException or IOException or TaskCanceledException),
        _ => false,
    };

    internal static StorageException Translate(Exception ex, StoragePath path) => ex is RequestFailedException r
        ? (r.Status, r.ErrorCode) switch
        {
            (_, "ContainerNotFound") => new StorageException(StorageErrorKind.Unavailable, $"The container does not exist ({path})", ex),
            (404, _) => new StorageException(StorageErrorKind.NotFound, $"'{path}' does not exist", ex),
            (403, _) => new StorageException(StorageErrorKind.AccessDenied, $"Access to '{path}' denied: {r.ErrorCode}", ex),
            (409, _) or (412, _) => new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists or changed: {r.ErrorCode}", ex),
            (416, _) => new StorageException(StorageErrorKind.InvalidRange, $"Bad range on '{path}'", ex),
            (413, _) => new StorageException(StorageErrorKind.InsufficientStorage, $"'{path}': {r.ErrorCode}", ex),
            (400, "InvalidBlobOrBlock" or "InvalidResourceName" or "OutOfRangeInput") => new StorageException(StorageErrorKind.InvalidName, $"'{path}': {r.ErrorCode}", ex),
            _ => new StorageException(StorageErrorKind.Unavailable, $"Azure error on '{path}': {r.Status} {r.ErrorCode}", ex),
        }
        : new StorageException(StorageErrorKind.Unavailable, $"Azure unreachable on '{path}': {ex.Message}", ex);

    /// <summary>A blob download; transport failures become storage failures, not data-connection ones.</summary>
    private sealed class DownloadStream(Stream inner) : ReadOnlyStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or RequestFailedException)
            {
                throw new StorageException(StorageErrorKind.Unavailable, "The blob download broke off", ex);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

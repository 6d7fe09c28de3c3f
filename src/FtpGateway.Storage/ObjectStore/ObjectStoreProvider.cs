using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FtpGateway.Storage.ObjectStore;

/// <summary>The limits and names an object store's provider runs with.</summary>
/// <param name="KeyPrefix">Prefix of every key ("" or "ftp/").</param>
/// <param name="Parts">The size of each part (S3) or block (Azure) of an upload; the first is the configured size.</param>
/// <param name="MaxConcurrentParts">Parts in flight per upload, while parts have the configured size.</param>
/// <param name="MaxRenameObjects">Most objects a directory rename may copy.</param>
public sealed record ObjectStoreSettings(string KeyPrefix, PartSchedule Parts, int MaxConcurrentParts, int MaxRenameObjects)
{
    /// <summary>The configured part size: the first part of every upload.</summary>
    public long PartSize => Parts.SizeOf(1);

    /// <summary>The pooled buffers parts are made of: the configured part size, at most 16 MiB (an array is never larger).</summary>
    public int ChunkSize => (int)Math.Min(PartSize, 16 * 1024 * 1024);

    /// <summary>How long what the gateway saw of a directory answers an upload's checks (<see cref="DirectoryKnowledge"/>); zero: never.</summary>
    public TimeSpan DirectoryCacheDuration { get; init; }

    /// <summary>The longest key the store holds (S3: 1,024 bytes of UTF-8; Azure: 1,024 characters).</summary>
    public int MaxKeyLength { get; init; } = int.MaxValue;

    /// <summary>Whether <see cref="MaxKeyLength"/> counts UTF-8 bytes (S3) or characters (Azure).</summary>
    public bool KeyLengthInBytes { get; init; }

    /// <summary>The settings of options whose validation found no <paramref name="errors"/>; otherwise an exception naming every invalid key.</summary>
    public static ObjectStoreSettings Validated(IReadOnlyList<string> errors, Func<ObjectStoreSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(settings);
        return errors.Count > 0 ? throw new InvalidOperationException(string.Join("; ", errors)) : settings();
    }
}

/// <summary>
/// Files and directories on an object store, the rules S3 and Azure share written once: a path maps to a key
/// under the prefix; a directory is a marker object or simply a prefix with objects under it; uploads stream in
/// parts and commit only when whole (<see cref="ObjectUpload"/>); a rename is a server-side copy and a delete,
/// a directory rename bounded by MaxRenameObjects. A provider supplies the store's primitives, and decides only
/// what its store does differently: how kept bytes of an APPE are carried over, how a very large copy is made.
/// </summary>
public abstract class ObjectStoreProvider : IStorageProvider
{
    private readonly string _prefix;

    protected ObjectStoreProvider(ObjectStoreSettings settings, ILogger? logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        Logger = logger ?? NullLogger.Instance;
        _prefix = settings.KeyPrefix;
        Directories = new ObjectDirectories(this, new DirectoryKnowledge(time ?? TimeProvider.System, settings.DirectoryCacheDuration));

        // The provider's own pool: the shared one keeps large arrays in per-thread and per-core caches, and part
        // buffers rented and returned on different threads piled up there (221 MiB peak for one 1 GiB upload).
        Buffers = ArrayPool<byte>.Create(settings.ChunkSize, maxArraysPerBucket: (int)Math.Min(1024, settings.PartSize / settings.ChunkSize * settings.MaxConcurrentParts * 4));
    }

    public abstract string Name { get; }

    /// <summary>A key means only itself: nothing can reach outside a user's prefix.</summary>
    public IStorageProvider ForRoot(StoragePath root) => this;

    /// <summary>Where a path lives in the store (<c>s3://bucket/key</c>, a blob's URL), for events.</summary>
    public abstract string? Locate(StoragePath path);

    /// <summary>Which store this is, for start-up errors (never a secret).</summary>
    public abstract string Describe();

    /// <summary>Rename is a copy then a delete: not atomic for readers.</summary>
    public StorageCapabilities Capabilities =>
        StorageCapabilities.Append | StorageCapabilities.ResumeUpload | StorageCapabilities.SetModificationTime;

    public abstract IReadOnlyList<string> HashAlgorithms { get; }

    internal ObjectStoreSettings Settings { get; }

    internal ILogger Logger { get; }

    /// <summary>Directory checks, and what the gateway knows of directories.</summary>
    internal ObjectDirectories Directories { get; }

    /// <summary>Part buffers, shared by this provider's uploads; at most (parts in flight + 1) per upload are rented.</summary>
    internal ArrayPool<byte> Buffers { get; }

    // ---- The store's primitives ------------------------------------------------------------------

    /// <summary>The key of a directory's marker: "dir/" on S3, "dir" (with hdi_isfolder) on Azure.</summary>
    protected internal abstract string MarkerKey(StoragePath directory);

    /// <summary>The object under <paramref name="key"/>, or null.</summary>
    protected internal abstract Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// The objects under <paramref name="prefix"/>, page by page; with <paramref name="delimited"/>, one level only;
    /// with <paramref name="pageSize"/>, that one page only; with <paramref name="startAt"/>, from that key on
    /// (including it where <see cref="ListingStartIsInclusive"/>, else after it), where the store can.
    /// </summary>
    protected internal abstract IAsyncEnumerable<ObjectListPage> ListPagesAsync(string prefix, bool delimited, int? pageSize, string? startAt, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the store keeps a whole object's MD5 given at the commit of a multipart write (Azure's Content-MD5;
    /// S3 has no place for it): only then is every byte of an upload hashed on its way through.
    /// </summary>
    protected internal virtual bool KeepsWholeObjectMd5 => false;

    /// <summary>Whether a listing that starts at a key includes that key (Azure's startFrom) or begins after it (S3's StartAfter).</summary>
    protected internal abstract bool ListingStartIsInclusive { get; }

    /// <summary>The object's bytes from <paramref name="offset"/>; null when there is no such object. A range the store refuses is InvalidRange.</summary>
    protected abstract Task<Stream?> OpenAsync(string key, long offset, CancellationToken cancellationToken);

    /// <summary>Writes a directory marker, carrying <paramref name="time"/> when given.</summary>
    protected internal abstract Task PutMarkerAsync(string key, DateTimeOffset? time, CancellationToken cancellationToken);

    /// <summary>Stores a whole object in one request: the commit of a small upload.</summary>
    protected internal abstract Task PutAsync(string key, PartContent content, WriteCondition condition, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken);

    protected internal abstract Task<MultipartWrite> BeginMultipartAsync(string key, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken);

    /// <summary>Plans how the first <paramref name="keep"/> bytes of <paramref name="existing"/> are kept by an upload.</summary>
    protected internal abstract Task<KeptPrefix> KeepPrefixAsync(ObjectInfo existing, long keep, CancellationToken cancellationToken);

    /// <summary>A server-side copy of <paramref name="source"/> to <paramref name="targetKey"/>: a write like any other (storage class, encryption, tier).</summary>
    protected internal abstract Task CopyAsync(ObjectInfo source, string targetKey, CancellationToken cancellationToken);

    protected internal abstract Task DeleteAsync(string key, CancellationToken cancellationToken);

    protected internal abstract Task DeleteAllAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>Stores an MFMT time with an existing object (a file, or a directory marker under the path's own key).</summary>
    protected abstract Task SetStoredTimeAsync(ObjectInfo file, DateTimeOffset time, CancellationToken cancellationToken);

    /// <summary>A cheap round trip proving the bucket or container answers.</summary>
    protected abstract Task ProbeStoreAsync(CancellationToken cancellationToken);

    /// <summary>True for the SDK's and the transport's failures, which <see cref="Translate"/> turns into storage errors.</summary>
    protected abstract bool IsBackendFailure(Exception exception);

    protected abstract StorageException Translate(Exception exception, StoragePath path);

    /// <summary>The files of a listing page as clients are to see them (a provider may look up more about them).</summary>
    protected internal virtual Task<IReadOnlyList<ObjectInfo>> CompleteListingAsync(IReadOnlyList<ObjectInfo> files, CancellationToken cancellationToken) =>
        Task.FromResult(files);

    // ---- Keys -----------------------------------------------------------------------------------

    /// <summary>The one place a path becomes a key: under the prefix, no leading slash.</summary>
    protected internal string Key(StoragePath path) => _prefix + path.Value[1..];

    /// <summary>The key prefix of a directory's children.</summary>
    protected internal string DirectoryPrefix(StoragePath path) => path.IsRoot ? _prefix : Key(path) + "/";

    // ---- IStorageProvider -------------------------------------------------------------------------

    public async ValueTask<StorageEntry?> GetEntryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot)
        {
            return new StorageEntry(path, true, 0, null);
        }

        if (!Holds(Key(path)))
        {
            return null; // nothing the store holds can have this name (asking would be a client's error answered as a failure)
        }

        return await Call(path, async () =>
        {
            var head = await HeadAsync(Key(path), cancellationToken);
            if (head is not null)
            {
                return new StorageEntry(path, head.IsDirectoryMarker, head.IsDirectoryMarker ? 0 : head.Size, head.Modified);
            }

            if (!Holds(DirectoryPrefix(path)))
            {
                return null; // a key at the limit can be a file, not a directory with something under it
            }

            var first = await Directories.FirstUnderAsync(DirectoryPrefix(path), cancellationToken);
            return first is null ? null : new StorageEntry(path, true, 0, first.Key == MarkerKey(path) ? first.Modified : null);
        });
    }

    public IAsyncEnumerable<StorageEntry> ListAsync(StoragePath directory, CancellationToken cancellationToken) =>
        ObjectListing.ListAsync(this, directory, cancellationToken);

    public async ValueTask<Stream> OpenReadAsync(StoragePath path, long offset, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            RequireHeld(path);
            try
            {
                return await OpenAsync(Key(path), offset, cancellationToken)
                    ?? throw (await Directories.ExistsAsync(path, cancellationToken)
                        ? new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory")
                        : StorageException.NotFound(path));
            }
            catch (StorageException ex) when (ex.Kind == StorageErrorKind.InvalidRange && offset > 0)
            {
                // Stores refuse a range that starts at the end; for REST n with n == size that is an empty file.
                if ((await HeadAsync(Key(path), cancellationToken))?.Size == offset)
                {
                    return new MemoryStream([], writable: false);
                }

                throw;
            }
        });

    public async ValueTask<StorageEntry> UploadAsync(UploadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path;
        if (path.IsRoot)
        {
            throw new StorageException(StorageErrorKind.IsADirectory, "Cannot upload to the root");
        }

        var key = Key(path);
        RequireStorable(path, key);
        var existing = await Call(path, async () =>
        {
            // Independent round trips, at once; the directory checks are often answered by what was seen lately.
            var target = Directories.CheckUploadTargetAsync(path, cancellationToken);
            var head = UploadRules.NeedsExisting(request) ? HeadAsync(key, cancellationToken) : Task.FromResult<ObjectInfo?>(null);
            await Task.WhenAll(target, head);
            return head.Result is { IsDirectoryMarker: true }
                ? throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory")
                : head.Result;
        });

        var keep = UploadRules.KeptBytes(request, existing?.Size);
        try
        {
            var size = await Call(path, () => new ObjectUpload(this, key, request, cancellationToken).RunAsync(existing, keep));
            return new StorageEntry(path, false, size, DateTimeOffset.UtcNow);
        }
        catch (StorageException ex) when (ex.Kind == StorageErrorKind.AlreadyExists && request.Mode is UploadMode.Append or UploadMode.Resume)
        {
            // The commit was conditional on the version seen at the start: another client changed the file.
            throw new StorageException(StorageErrorKind.Conflict, $"'{path}' changed during an append or resume", ex);
        }
    }

    public async ValueTask CheckUploadTargetAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot)
        {
            throw new StorageException(StorageErrorKind.IsADirectory, "Cannot upload to the root");
        }

        RequireStorable(path, Key(path));
        await Call(path, async () =>
        {
            await Directories.CheckUploadTargetAsync(path, cancellationToken);
            return true;
        });
    }

    public async ValueTask DeleteFileAsync(StoragePath path, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            RequireHeld(path);
            if (path.IsRoot || await HeadAsync(Key(path), cancellationToken) is null or { IsDirectoryMarker: true })
            {
                throw await Directories.ExistsAsync(path, cancellationToken)
                    ? new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory")
                    : StorageException.NotFound(path);
            }

            await DeleteAsync(Key(path), cancellationToken);
            Directories.Knowledge.MayBeGone(path.Parent);
            return true;
        });

    public async ValueTask CreateDirectoryAsync(StoragePath path, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            if (path.IsRoot || await GetEntryAsync(path, cancellationToken) is not null)
            {
                throw new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists");
            }

            RequireStorable(path, MarkerKey(path));

            await Directories.RequireParentAsync(path, cancellationToken);
            await PutMarkerAsync(MarkerKey(path), null, cancellationToken);
            Directories.Knowledge.Created(path);
            return true;
        });

    public async ValueTask DeleteDirectoryAsync(StoragePath path, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            if (path.IsRoot)
            {
                throw new StorageException(StorageErrorKind.AccessDenied, "The root cannot be removed");
            }

            RequireHeld(path);

            var marker = MarkerKey(path);
            var under = await Directories.FirstUnderAsync(DirectoryPrefix(path), 2, cancellationToken);
            if (under.Any(o => o.Key != marker))
            {
                throw new StorageException(StorageErrorKind.DirectoryNotEmpty, $"'{path}' is not empty");
            }

            if (under.Count == 0)
            {
                // The marker lies outside the prefix (Azure), or there is no directory.
                var self = await HeadAsync(Key(path), cancellationToken);
                if (self is not { IsDirectoryMarker: true })
                {
                    throw self is null ? StorageException.NotFound(path) : new StorageException(StorageErrorKind.NotADirectory, $"'{path}' is a file");
                }
            }

            await DeleteAsync(marker, cancellationToken);
            Directories.Knowledge.Removed(path);
            return true;
        });

    /// <summary>
    /// A file: copied server-side, then the original deleted (replacing a file at the target, as rename(2) does).
    /// A directory: every object under it, refused up front above MaxRenameObjects. Not atomic for readers.
    /// </summary>
    public async ValueTask RenameAsync(StoragePath source, StoragePath target, CancellationToken cancellationToken) =>
        await Call(source, async () =>
        {
            await Directories.RenameAsync(source, target, cancellationToken);
            return true;
        });

    public async ValueTask SetModificationTimeAsync(StoragePath path, DateTimeOffset time, CancellationToken cancellationToken) =>
        await Call(path, async () =>
        {
            RequireHeld(path);

            // A file, or a directory marker under the path's own key (Azure): the time goes onto that object.
            var head = await HeadAsync(Key(path), cancellationToken);
            if (head is not null)
            {
                await SetStoredTimeAsync(head, time, cancellationToken);
                return true;
            }

            if (!await Directories.ExistsAsync(path, cancellationToken))
            {
                throw StorageException.NotFound(path);
            }

            // A directory whose marker lies under its prefix (S3) or that is only implied: a marker carries the time.
            await PutMarkerAsync(MarkerKey(path), time, cancellationToken);
            return true;
        });

    public async ValueTask<byte[]> GetHashAsync(StoragePath path, string algorithm, CancellationToken cancellationToken)
    {
        RequireHeld(path);
        var head = await Call(path, () => HeadAsync(Key(path), cancellationToken));
        if (head is null or { IsDirectoryMarker: true })
        {
            throw head is null ? StorageException.NotFound(path) : new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
        }

        // What the store or the gateway kept with the object, where it is there; otherwise one streamed read
        // through the hash: bounded memory, the cost of a download.
        var stored = algorithm switch
        {
            Hashing.Md5 => head.Md5,
            Hashing.Sha256 => head.Sha256,
            _ => null,
        };
        if (stored is not null)
        {
            return stored;
        }

        await using var stream = await OpenReadAsync(path, 0, cancellationToken);
        return await Hashing.ComputeAsync(stream, algorithm, cancellationToken);
    }

    public async ValueTask ProbeAsync(CancellationToken cancellationToken) =>
        await Call(StoragePath.Root, async () =>
        {
            await ProbeStoreAsync(cancellationToken);
            return true;
        });

    // ---- Shared helpers ---------------------------------------------------------------------------

    /// <summary>Whether the store can hold <paramref name="key"/> (<see cref="ObjectStoreSettings.MaxKeyLength"/>).</summary>
    internal bool Holds(string key) =>
        (Settings.KeyLengthInBytes ? System.Text.Encoding.UTF8.GetByteCount(key) : key.Length) <= Settings.MaxKeyLength;

    /// <summary>A name too long for the store is one the client cannot have (553), never a store failure (451).</summary>
    internal void RequireStorable(StoragePath path, string key)
    {
        if (!Holds(key))
        {
            throw new StorageException(StorageErrorKind.InvalidName, $"'{path}' is longer than the {Settings.MaxKeyLength} {(Settings.KeyLengthInBytes ? "bytes" : "characters")} a key may have");
        }
    }

    /// <summary>Nothing the store holds has a name it cannot hold: such a path is not there (550).</summary>
    private void RequireHeld(StoragePath path)
    {
        if (!path.IsRoot && !Holds(Key(path)))
        {
            throw StorageException.NotFound(path);
        }
    }

    /// <summary>Runs a backend call and turns the SDK's failures into <see cref="StorageException"/>.</summary>
    protected internal async Task<T> Call<T>(StoragePath path, Func<Task<T>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return await action();
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            throw Translate(ex, path);
        }
    }
}

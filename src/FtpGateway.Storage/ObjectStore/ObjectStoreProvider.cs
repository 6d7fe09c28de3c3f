using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// Files and directories on an object store, the rules S3 and Azure share written once over the store's
/// primitives (<see cref="IObjectStore"/>): a path maps to a key under the prefix (<see cref="ObjectKeys"/>); a
/// directory is a marker object or simply a prefix with objects under it (<see cref="ObjectDirectories"/>);
/// uploads stream in parts and commit only when whole (<see cref="ObjectUpload"/>); a rename is a server-side
/// copy and a delete, a directory rename bounded by MaxRenameObjects. Every failure of the store reaches the
/// caller as a <see cref="StorageException"/>.
/// </summary>
public sealed class ObjectStoreProvider : IStorageProvider, IDisposable
{
    private readonly IObjectStore _store;
    private readonly ObjectStoreSettings _settings;
    private readonly ObjectKeys _keys;
    private readonly ObjectDirectories _directories;
    private readonly ObjectRetention _retention;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly RecentUploads _uploads = new();

    /// <summary>Part buffers, shared by this provider's uploads; at most (parts in flight + 1) per upload are rented.</summary>
    private readonly ArrayPool<byte> _buffers;

    /// <param name="store">the store's primitives.</param>
    /// <param name="settings">the limits and names (validated by the store's options).</param>
    /// <param name="logger">where the provider logs what clients are not told (names it cannot list).</param>
    /// <param name="time">the clock that ages what the gateway knows of directories and stamps uploads.</param>
    public ObjectStoreProvider(IObjectStore store, ObjectStoreSettings settings, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(settings);
        _store = store;
        _settings = settings;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _keys = new ObjectKeys(settings, store);
        _retention = new ObjectRetention(store, _time);
        _directories = new ObjectDirectories(store, _keys, settings, new DirectoryKnowledge(_time, settings.DirectoryCacheDuration), _retention);

        // The provider's own pool: the shared one keeps large arrays in per-thread and per-core caches, and part
        // buffers rented and returned on different threads piled up there (221 MiB peak for one 1 GiB upload). It
        // keeps what two uploads at full speed hold (each its parts in flight and the one being filled); more
        // concurrent uploads borrow beyond that from the GC, and give it back.
        var chunksPerUpload = settings.PartSize * (settings.MaxConcurrentParts + 1) / settings.ChunkSize;
        _buffers = ArrayPool<byte>.Create(settings.ChunkSize, maxArraysPerBucket: (int)Math.Min(1024, chunksPerUpload * 2));
    }

    public string Name => _store.Name;

    /// <summary>A key means only itself: nothing can reach outside a user's prefix.</summary>
    public IStorageProvider ForRoot(StoragePath root) => this;

    /// <summary>Where a path lives in the store (<c>s3://bucket/key</c>, a blob's URL), for events.</summary>
    public string? Locate(StoragePath path) => _store.Locate(_keys.Key(path));

    /// <summary>Which store this is, for start-up errors (never a secret).</summary>
    public string Describe() => _store.Describe();

    /// <summary>Rename is a copy then a delete: not atomic for readers.</summary>
    public StorageCapabilities Capabilities =>
        StorageCapabilities.Append | StorageCapabilities.ResumeUpload | StorageCapabilities.SetModificationTime;

    public IReadOnlyList<string> HashAlgorithms => _store.HashAlgorithms;

    public void Dispose() => (_store as IDisposable)?.Dispose();

    public async ValueTask<StorageEntry?> GetEntryAsync(StoragePath path, CancellationToken cancellationToken) =>
        await _store.CallAsync(path, () => _directories.EntryAsync(path, cancellationToken));

    public IAsyncEnumerable<StorageEntry> ListAsync(StoragePath directory, CancellationToken cancellationToken) =>
        ObjectListing.ListAsync(_store, _keys, _directories, _logger, directory, cancellationToken);

    public async ValueTask<Stream> OpenReadAsync(StoragePath path, long offset, CancellationToken cancellationToken) =>
        await _store.CallAsync(path, async () =>
        {
            _keys.RequireHeld(path);
            try
            {
                return await _store.OpenAsync(_keys.Key(path), offset, cancellationToken)
                    ?? throw (await _directories.ExistsAsync(path, cancellationToken)
                        ? new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory")
                        : StorageException.NotFound(path));
            }
            catch (StorageException ex) when (ex.Kind == StorageErrorKind.InvalidRange && offset > 0)
            {
                // Stores refuse a range that starts at the end; for REST n with n == size that is an empty file.
                if ((await _store.HeadAsync(_keys.Key(path), cancellationToken))?.Size == offset)
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

        var key = _keys.Key(path);
        _keys.RequireStorable(path, key);
        var existing = await _store.CallAsync(path, async () =>
        {
            // Independent round trips, at once; the directory checks are often answered by what was seen lately.
            var target = _directories.CheckUploadTargetAsync(path, cancellationToken);
            var head = UploadRules.NeedsExisting(request) || _retention.Applies ? _store.HeadAsync(key, cancellationToken) : Task.FromResult<ObjectInfo?>(null);
            await Task.WhenAll(target, head);
            _retention.Require(head.Result, path, request.Mode == UploadMode.Append ? "appended to" : "replaced");
            return head.Result is { IsDirectoryMarker: true }
                ? throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory")
                : head.Result;
        });

        var keep = UploadRules.KeptBytes(request, existing?.Size);
        try
        {
            var upload = new ObjectUpload(_store, _settings, _buffers, key, request, cancellationToken);
            var (size, sha256, stored) = await _store.CallAsync(path, () => upload.RunAsync(existing, keep));
            _uploads.Stored(key, stored);
            return new StorageEntry(path, false, size, _time.GetUtcNow()) { Sha256 = sha256 };
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

        _keys.RequireStorable(path, _keys.Key(path));
        await _store.CallAsync(path, async () =>
        {
            await _directories.CheckUploadTargetAsync(path, cancellationToken);
            if (_retention.Applies)
            {
                _retention.Require(await _store.HeadAsync(_keys.Key(path), cancellationToken), path, "replaced");
            }

            return true;
        });
    }

    public async ValueTask DeleteFileAsync(StoragePath path, CancellationToken cancellationToken) =>
        await _store.CallAsync(path, async () =>
        {
            _keys.RequireHeld(path);
            var key = _keys.Key(path);
            var head = path.IsRoot ? null : await _store.HeadAsync(key, cancellationToken);
            if (head is null or { IsDirectoryMarker: true })
            {
                throw await _directories.ExistsAsync(path, cancellationToken)
                    ? new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory")
                    : StorageException.NotFound(path);
            }

            _retention.Require(head, path, "deleted");

            await _store.DeleteAsync(key, cancellationToken);
            _uploads.Forget(key);
            _directories.Knowledge.MayBeGone(path.Parent);
            return true;
        });

    public async ValueTask CreateDirectoryAsync(StoragePath path, CancellationToken cancellationToken) =>
        await _store.CallAsync(path, async () =>
        {
            if (path.IsRoot || await _directories.EntryAsync(path, cancellationToken) is not null)
            {
                throw new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists");
            }

            _keys.RequireStorable(path, _keys.MarkerKey(path));

            await _directories.RequireParentAsync(path, cancellationToken);
            await _store.PutMarkerAsync(_keys.MarkerKey(path), null, cancellationToken);
            _directories.Knowledge.Created(path);
            return true;
        });

    public async ValueTask DeleteDirectoryAsync(StoragePath path, CancellationToken cancellationToken) =>
        await _store.CallAsync(path, async () =>
        {
            if (path.IsRoot)
            {
                throw new StorageException(StorageErrorKind.AccessDenied, "The root cannot be removed");
            }

            _keys.RequireHeld(path);

            var marker = _keys.MarkerKey(path);
            var under = await _directories.FirstUnderAsync(_keys.DirectoryPrefix(path), 2, cancellationToken);
            if (under.Any(o => o.Key != marker))
            {
                throw new StorageException(StorageErrorKind.DirectoryNotEmpty, $"'{path}' is not empty");
            }

            if (under.Count == 0)
            {
                // The marker lies outside the prefix (Azure), or there is no directory.
                var self = await _store.HeadAsync(_keys.Key(path), cancellationToken);
                if (self is not { IsDirectoryMarker: true })
                {
                    throw self is null ? StorageException.NotFound(path) : new StorageException(StorageErrorKind.NotADirectory, $"'{path}' is a file");
                }
            }

            await _store.DeleteAsync(marker, cancellationToken);
            _directories.Knowledge.Removed(path);
            return true;
        });

    /// <inheritdoc cref="ObjectDirectories.RenameAsync"/>
    public async ValueTask RenameAsync(StoragePath source, StoragePath target, CancellationToken cancellationToken) =>
        await _store.CallAsync(source, async () =>
        {
            await _directories.RenameAsync(source, target, cancellationToken);
            _uploads.Forget(_keys.Key(source));
            _uploads.Forget(_keys.Key(target));
            return true;
        });

    public async ValueTask SetModificationTimeAsync(StoragePath path, DateTimeOffset time, CancellationToken cancellationToken) =>
        await _store.CallAsync(path, async () =>
        {
            _keys.RequireHeld(path);
            var key = _keys.Key(path);

            // A file, or a directory marker under the path's own key (Azure): the time goes onto that object — the
            // version this provider has just stored where it remembers one, else what a HEAD finds. The stamp is
            // conditional on that version's ETag: one changed or gone meanwhile is looked at again, three times at most.
            var file = _uploads.Take(key);
            var looks = 0;
            while (true)
            {
                if (file is null)
                {
                    looks++;
                    file = await _store.HeadAsync(key, cancellationToken);
                    if (file is null)
                    {
                        break;
                    }
                }

                try
                {
                    await _store.SetStoredTimeAsync(file, time, cancellationToken);
                    return true;
                }
                catch (Exception ex) when (_store.IsStale(ex))
                {
                    file = looks < 3 ? null
                        : throw (_store.Translate(ex, path).Kind == StorageErrorKind.NotFound
                            ? StorageException.NotFound(path)
                            : new StorageException(StorageErrorKind.Conflict, $"'{path}' kept changing while its time was stored", ex));
                }
            }

            if (!await _directories.ExistsAsync(path, cancellationToken))
            {
                throw StorageException.NotFound(path);
            }

            // A directory whose marker lies under its prefix (S3) or that is only implied: a marker carries the time.
            await _store.PutMarkerAsync(_keys.MarkerKey(path), time, cancellationToken);
            return true;
        });

    public async ValueTask<byte[]> GetHashAsync(StoragePath path, string algorithm, CancellationToken cancellationToken)
    {
        _keys.RequireHeld(path);
        var head = await _store.CallAsync(path, () => _store.HeadAsync(_keys.Key(path), cancellationToken));
        if (head is null or { IsDirectoryMarker: true })
        {
            throw head is null ? StorageException.NotFound(path) : new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
        }

        // What the store or the gateway kept with the object, where it is there; otherwise one streamed read
        // through the hash: bounded memory, the cost of a download.
        var stored = algorithm switch
        {
            Hashing.Md5 => head.Md5,
            Hashing.Sha256 => await _store.CallAsync(path, () => _store.StoredSha256Async(head, cancellationToken)),
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
        await _store.CallAsync(StoragePath.Root, async () =>
        {
            await _store.ProbeAsync(cancellationToken);
            return true;
        });
}

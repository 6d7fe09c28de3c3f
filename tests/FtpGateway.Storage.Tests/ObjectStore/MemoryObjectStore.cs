using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using FtpGateway.Storage.ObjectStore;

#pragma warning disable CA5351 // the MD5 a store keeps with an object, as S3 and Azure do

namespace FtpGateway.Storage.Tests.ObjectStore;

/// <summary>
/// An object store in memory, with the semantics the shared rules rely on: keys in UTF-8 order, listings in pages
/// with or without a delimiter, conditional writes, multipart writes visible only at their commit, server-side
/// copies of kept ranges. It lays directories out as S3 does ("dir/" markers, listings start after a key) or as
/// Azure does (a marker under the directory's own key, listings start at a key). It counts what it was asked
/// and can hold or fail parts, so tests see what an upload does without a store.
/// </summary>
internal sealed class MemoryObjectStore(bool azureLayout = false, long smallestKeptPart = 5) : IObjectStore
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, Stored> _objects = new(KeyOrder.Comparer);
    private long _version;
    private long _inFlight;

    public string Name => azureLayout ? "MemoryAzure" : "MemoryS3";

    public IReadOnlyList<string> HashAlgorithms { get; } = [Hashing.Md5, Hashing.Sha256];

    public bool ListingStartIsInclusive => azureLayout;

    public bool KeepsWholeObjectMd5 => azureLayout;

    /// <summary>How many HEAD and listing requests were made (directory knowledge saves them).</summary>
    public int Heads { get; private set; }

    public int Lists { get; private set; }

    public int Puts { get; private set; }

    /// <summary>The lengths of the parts of new data, in the order their uploads started.</summary>
    public List<long> PartLengths { get; } = [];

    /// <summary>The most bytes of parts being uploaded at once.</summary>
    public long MostBytesInFlight { get; private set; }

    public int Aborts { get; private set; }

    /// <summary>Multipart writes begun and neither completed nor aborted.</summary>
    public int OpenWrites { get; private set; }

    /// <summary>Parts wait for this before they are stored (tests hold them to see backpressure).</summary>
    public Task PartGate { get; set; } = Task.CompletedTask;

    /// <summary>The part number whose upload fails, as a store's 503 would.</summary>
    public int? FailingPart { get; set; }

    /// <summary>Runs after each HEAD with its key, outside the store's lock (tests change an object there, as another client would).</summary>
    public Action<string>? AfterHead { get; set; }

    /// <summary>The status every stamp (<see cref="SetStoredTimeAsync"/>) fails with, when set; other requests still work.</summary>
    public int? StampFailure { get; set; }

    /// <summary>Every request fails, as an unreachable store's would.</summary>
    public bool Unavailable { get; set; }

    public string Describe() => $"memory store ({Name})";

    public string Locate(string key) => "memory:///" + key;

    public string MarkerKey(string directoryKey) => azureLayout ? directoryKey : directoryKey + "/";

    /// <summary>The object's bytes, or null (for assertions).</summary>
    public byte[]? Content(string key)
    {
        lock (_lock)
        {
            return _objects.TryGetValue(key, out var o) ? o.Data : null;
        }
    }

    public IReadOnlyList<string> Keys()
    {
        lock (_lock)
        {
            return [.. _objects.Keys];
        }
    }

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        ObjectInfo? found;
        lock (_lock)
        {
            Heads++;
            found = _objects.TryGetValue(key, out var o) ? o.Info(key) : null;
        }

        AfterHead?.Invoke(key);
        return Task.FromResult(found);
    }

    public async IAsyncEnumerable<ObjectListPage> ListPagesAsync(string prefix, bool delimited, int? pageSize, string? startAt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var size = pageSize ?? 1000;
        var after = startAt;
        var inclusive = azureLayout && startAt is not null;
        while (true)
        {
            await Task.Yield();
            Enter(cancellationToken);
            var objects = new List<ObjectInfo>();
            var prefixes = new List<string>();
            string? last = null;
            var truncated = false;
            lock (_lock)
            {
                Lists++;
                foreach (var (key, stored) in _objects)
                {
                    if (!key.StartsWith(prefix, StringComparison.Ordinal) || (after is not null && (inclusive ? KeyOrder.Compare(key, after) < 0 : KeyOrder.Compare(key, after) <= 0)))
                    {
                        continue;
                    }

                    var slash = delimited ? key.IndexOf('/', prefix.Length) : -1;
                    var common = slash >= 0 ? key[..(slash + 1)] : null;
                    if (common is not null && prefixes.Count > 0 && prefixes[^1] == common)
                    {
                        last = key;
                        continue;
                    }

                    if (objects.Count + prefixes.Count == size)
                    {
                        truncated = true;
                        break;
                    }

                    if (common is not null)
                    {
                        prefixes.Add(common);
                    }
                    else
                    {
                        objects.Add(stored.Info(key) with { Metadata = null, ContentType = null });
                    }

                    last = key;
                }
            }

            yield return new ObjectListPage(objects, prefixes) { Truncated = truncated };
            if (!truncated || pageSize is not null)
            {
                yield break;
            }

            (after, inclusive) = (last, false);
        }
    }

    public Task<IReadOnlyList<ObjectInfo>> CompleteListingAsync(IReadOnlyList<ObjectInfo> files, CancellationToken cancellationToken) => Task.FromResult(files);

    public Task<Stream?> OpenAsync(string key, long offset, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        lock (_lock)
        {
            if (!_objects.TryGetValue(key, out var o))
            {
                return Task.FromResult<Stream?>(null);
            }

            if (offset > 0 && offset >= o.Data.Length)
            {
                throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {offset} is beyond the end of '{key}'");
            }

            return Task.FromResult<Stream?>(new MemoryStream(o.Data, (int)offset, o.Data.Length - (int)offset, writable: false));
        }
    }

    public Task PutMarkerAsync(string key, DateTimeOffset? time, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        Store(key, [], WriteCondition.None, null, marker: true, storedTime: time, md5: null);
        return Task.CompletedTask;
    }

    public async Task<ObjectInfo?> PutAsync(string key, PartContent content, WriteCondition condition, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        var data = await ReadAsync(content);
        lock (_lock)
        {
            Puts++;
        }

        return Store(key, data, condition, metadata, marker: false, storedTime: null, md5: MD5.HashData(data));
    }

    public Task<IMultipartWrite> BeginMultipartAsync(string key, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        lock (_lock)
        {
            OpenWrites++;
        }

        return Task.FromResult<IMultipartWrite>(new Write(this, key, metadata));
    }

    /// <summary>Ranges of at least <c>smallestKeptPart</c> bytes are copied server-side (as S3's UploadPartCopy); shorter ones are read back.</summary>
    public Task<KeptPrefix> KeepPrefixAsync(ObjectInfo existing, long keep, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        if (keep >= smallestKeptPart)
        {
            return Task.FromResult(new KeptPrefix([new KeptPart(0, keep) { SourceETag = existing.ETag }], null));
        }

        var data = Content(existing.Key) ?? throw new MemoryStoreException(404, existing.Key);
        return Task.FromResult(new KeptPrefix([], new MemoryStream(data, 0, (int)keep, writable: false)));
    }

    public Task CopyAsync(ObjectInfo source, string targetKey, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        lock (_lock)
        {
            var o = _objects.TryGetValue(source.Key, out var found) ? found : throw new MemoryStoreException(404, source.Key);
            _objects[targetKey] = o with { ETag = NextETag() };
        }

        return Task.CompletedTask;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        lock (_lock)
        {
            _objects.Remove(key);
        }

        return Task.CompletedTask;
    }

    public async Task DeleteAllAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            await DeleteAsync(key, cancellationToken);
        }
    }

    public Task SetStoredTimeAsync(ObjectInfo file, DateTimeOffset time, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        lock (_lock)
        {
            if (StampFailure is not null || !_objects.TryGetValue(file.Key, out var o) || o.ETag != file.ETag)
            {
                throw new MemoryStoreException(StampFailure ?? (_objects.ContainsKey(file.Key) ? 412 : 404), file.Key);
            }

            // As the real stores do: the object's metadata becomes what the caller sends (what it read, or wrote).
            _objects[file.Key] = o with { StoredTime = time, ETag = NextETag(), Metadata = file.Metadata };
        }

        return Task.CompletedTask;
    }

    public Task ProbeAsync(CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        return Task.CompletedTask;
    }

    public bool IsBackendFailure(Exception exception) => exception is MemoryStoreException;

    public bool IsStale(Exception exception) => exception is MemoryStoreException { Status: 404 or 412 };

    public StorageException Translate(Exception exception, StoragePath path) => ((MemoryStoreException)exception).Status switch
    {
        404 => new StorageException(StorageErrorKind.NotFound, $"'{path}' does not exist", exception),
        412 => new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' changed or exists", exception),
        _ => new StorageException(StorageErrorKind.Unavailable, $"The memory store failed on '{path}'", exception),
    };

    private void Enter(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Unavailable)
        {
            throw new MemoryStoreException(503, "(store)");
        }
    }

    private string NextETag() => $"\"v{Interlocked.Increment(ref _version)}\"";

    private ObjectInfo Store(string key, byte[] data, WriteCondition condition, IReadOnlyDictionary<string, string>? metadata, bool marker, DateTimeOffset? storedTime, byte[]? md5, int parts = 0)
    {
        lock (_lock)
        {
            var exists = _objects.TryGetValue(key, out var current);
            if ((condition.IfNoneMatch && exists) || (condition.IfMatch is { } etag && current?.ETag != etag))
            {
                throw new MemoryStoreException(412, key);
            }

            var version = NextETag();
            var stored = new Stored(data, DateTimeOffset.UtcNow, parts > 0 ? version.TrimEnd('"') + $"-{parts}\"" : version, marker, storedTime, md5, metadata);
            _objects[key] = stored;
            return stored.Info(key);
        }
    }

    private static async Task<byte[]> ReadAsync(PartContent content)
    {
        using var buffer = new MemoryStream();
        await using var source = content.OpenRead();
        await source.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private sealed record Stored(byte[] Data, DateTimeOffset LastModified, string ETag, bool Marker, DateTimeOffset? StoredTime, byte[]? Md5, IReadOnlyDictionary<string, string>? Metadata)
    {
        public ObjectInfo Info(string key) => new(key, Data.Length, LastModified, ETag)
        {
            IsDirectoryMarker = Marker,
            StoredTime = StoredTime,
            Md5 = Md5,
            Sha256 = Metadata is not null && Metadata.TryGetValue(ObjectMetadata.Sha256, out var sha) ? ObjectMetadata.ReadSha256(sha) : null,
            Metadata = Metadata ?? new Dictionary<string, string>(),
            ContentType = Marker ? "application/x-directory" : "application/octet-stream",
        };
    }

    private sealed class Write(MemoryObjectStore store, string key, IReadOnlyDictionary<string, string>? metadata) : IMultipartWrite
    {
        private readonly Dictionary<string, byte[]> _parts = [];
        private bool _ended;

        public async Task<string> UploadPartAsync(int number, PartContent data, CancellationToken cancellationToken)
        {
            lock (store._lock)
            {
                store.PartLengths.Add(data.Length);
                store._inFlight += data.Length;
                store.MostBytesInFlight = Math.Max(store.MostBytesInFlight, store._inFlight);
            }

            try
            {
                await store.PartGate.WaitAsync(cancellationToken);
                store.Enter(cancellationToken);
                if (store.FailingPart == number)
                {
                    throw new MemoryStoreException(503, key);
                }

                var token = $"part-{number}-{Guid.NewGuid():N}";
                var bytes = await ReadAsync(data);
                lock (_parts)
                {
                    _parts[token] = bytes;
                }

                return token;
            }
            finally
            {
                lock (store._lock)
                {
                    store._inFlight -= data.Length;
                }
            }
        }

        public Task<string> AddKeptPartAsync(int number, KeptPart part, CancellationToken cancellationToken)
        {
            store.Enter(cancellationToken);
            lock (store._lock)
            {
                if (!store._objects.TryGetValue(key, out var source) || (part.SourceETag is not null && source.ETag != part.SourceETag))
                {
                    throw new MemoryStoreException(412, key);
                }

                var token = $"kept-{number}-{Guid.NewGuid():N}";
                lock (_parts)
                {
                    _parts[token] = source.Data.AsSpan((int)part.Offset, (int)part.Length).ToArray();
                }

                return Task.FromResult(token);
            }
        }

        public Task CompleteAsync(IReadOnlyList<(int Number, string Token)> parts, WriteCondition condition, byte[]? md5, IReadOnlyDictionary<string, string>? final, CancellationToken cancellationToken)
        {
            store.Enter(cancellationToken);
            byte[] data;
            lock (_parts)
            {
                data = [.. parts.OrderBy(p => p.Number).SelectMany(p => _parts[p.Token])];
            }

            store.Store(key, data, condition, final ?? metadata, marker: false, storedTime: null, md5, parts.Count);
            End(aborted: false);
            return Task.CompletedTask;
        }

        public Task AbortAsync()
        {
            End(aborted: true);
            return Task.CompletedTask;
        }

        private void End(bool aborted)
        {
            lock (store._lock)
            {
                if (!_ended)
                {
                    _ended = true;
                    store.OpenWrites--;
                    store.Aborts += aborted ? 1 : 0;
                }
            }
        }
    }
}

/// <summary>A failure of the memory store, as an SDK's exception: its status says what happened.</summary>
internal sealed class MemoryStoreException(int status, string key) : Exception($"{status} on '{key}'")
{
    public int Status => status;
}

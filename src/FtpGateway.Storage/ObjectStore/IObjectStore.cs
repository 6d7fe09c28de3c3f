namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// What an object store can do — the primitives S3 and Azure each implement once, over their SDK — and nothing of
/// files and directories: those rules are <see cref="ObjectStoreProvider"/>'s, written once for both. Keys are full
/// keys (prefix included); every method may throw the SDK's exceptions, which <see cref="IsBackendFailure"/>
/// recognises and <see cref="Translate"/> turns into storage errors.
/// </summary>
public interface IObjectStore
{
    /// <summary>Short name for logs and metrics ("S3", "AzureBlob").</summary>
    string Name { get; }

    /// <summary>Which store this is, for start-up errors: the bucket or container and the endpoint, never a secret.</summary>
    string Describe();

    /// <summary>Where a key lives (<c>s3://bucket/key</c>, a blob's URL), for events.</summary>
    string Locate(string key);

    /// <summary>Hash algorithms this store answers cheaply (from what it keeps with an object).</summary>
    IReadOnlyList<string> HashAlgorithms { get; }

    /// <summary>Whether a listing that starts at a key includes that key (Azure's startFrom) or begins after it (S3's StartAfter).</summary>
    bool ListingStartIsInclusive { get; }

    /// <summary>
    /// Whether the store keeps a whole object's MD5 given at the commit of a multipart write (Azure's Content-MD5;
    /// S3 has no place for it): only then is every byte of an upload hashed on its way through.
    /// </summary>
    bool KeepsWholeObjectMd5 { get; }

    /// <summary>
    /// Whether writes carry a retention (S3 Object Lock): then a HEAD shows <see cref="ObjectInfo.RetainedUntil"/>,
    /// and the core looks before it replaces, appends to, renames or deletes an object (<see cref="ObjectRetention"/>).
    /// </summary>
    bool Retains => false;

    /// <summary>The key of the marker of the directory whose own key is <paramref name="directoryKey"/>: "dir/" on S3, "dir" (with hdi_isfolder) on Azure.</summary>
    string MarkerKey(string directoryKey);

    /// <summary>The SHA-256 the gateway kept with the object <paramref name="head"/> describes (its metadata, or where else the store keeps it); null if none.</summary>
    Task<byte[]?> StoredSha256Async(ObjectInfo head, CancellationToken cancellationToken) => Task.FromResult(head.Sha256);

    /// <summary>The object under <paramref name="key"/>, or null.</summary>
    Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// The objects under <paramref name="prefix"/>, page by page; with <paramref name="delimited"/>, one level only;
    /// with <paramref name="pageSize"/>, that one page only; with <paramref name="startAt"/>, from that key on
    /// (including it where <see cref="ListingStartIsInclusive"/>, else after it), where the store can.
    /// </summary>
    IAsyncEnumerable<ObjectListPage> ListPagesAsync(string prefix, bool delimited, int? pageSize, string? startAt, CancellationToken cancellationToken);

    /// <summary>The files of a listing page as clients are to see them (a store may look up more about them).</summary>
    Task<IReadOnlyList<ObjectInfo>> CompleteListingAsync(IReadOnlyList<ObjectInfo> files, CancellationToken cancellationToken);

    /// <summary>The object's bytes from <paramref name="offset"/>; null when there is no such object. A range the store refuses is InvalidRange.</summary>
    Task<Stream?> OpenAsync(string key, long offset, CancellationToken cancellationToken);

    /// <summary>Writes a directory marker, carrying <paramref name="time"/> when given.</summary>
    Task PutMarkerAsync(string key, DateTimeOffset? time, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a whole object in one request: the commit of a small upload. Returns the version stored as a HEAD
    /// would describe it (at least what <see cref="SetStoredTimeAsync"/> needs: key, size, ETag, content type and
    /// metadata), so that the MFMT lftp, WinSCP and FileZilla send right after an upload needs no HEAD; null where
    /// the store's condition on that ETag cannot be relied on to refuse a version changed since.
    /// </summary>
    Task<ObjectInfo?> PutAsync(string key, PartContent content, WriteCondition condition, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken);

    /// <summary>Starts an upload in parts, nothing of it visible until its commit.</summary>
    Task<IMultipartWrite> BeginMultipartAsync(string key, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken);

    /// <summary>Plans how the first <paramref name="keep"/> bytes of <paramref name="existing"/> are kept by an upload.</summary>
    Task<KeptPrefix> KeepPrefixAsync(ObjectInfo existing, long keep, CancellationToken cancellationToken);

    /// <summary>A server-side copy of <paramref name="source"/> to <paramref name="targetKey"/>: a write like any other (storage class, encryption, tier).</summary>
    Task CopyAsync(ObjectInfo source, string targetKey, CancellationToken cancellationToken);

    /// <summary>Deletes the object (nothing there is no error).</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes the objects, in as few requests as the store allows.</summary>
    Task DeleteAllAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Stores an MFMT time with an existing object (a file, or a directory marker under the path's own key), from a
    /// HEAD or as <see cref="PutAsync"/> returned it; conditional on its ETag where the store evaluates that (Azure
    /// does; radosgw ignores S3's on the copy): a version changed or gone since fails (<see cref="IsStale"/>).
    /// </summary>
    Task SetStoredTimeAsync(ObjectInfo file, DateTimeOffset time, CancellationToken cancellationToken);

    /// <summary>A cheap round trip proving the bucket or container answers.</summary>
    Task ProbeAsync(CancellationToken cancellationToken);

    /// <summary>True for the SDK's and the transport's failures, which <see cref="Translate"/> turns into storage errors.</summary>
    bool IsBackendFailure(Exception exception);

    /// <summary>
    /// True when the store refused a request on a version of an object because that version is no longer there: its
    /// ETag condition failed (412), or the object is gone (404). A look at what is there now settles it; any
    /// other refusal (a lease, an archived blob, access) would only be refused again.
    /// </summary>
    bool IsStale(Exception exception);

    /// <summary>A failure of the store, for <paramref name="path"/>, as a storage error.</summary>
    StorageException Translate(Exception exception, StoragePath path);
}

/// <summary>
/// One upload in progress as parts (S3 multipart upload, Azure staged blocks): nothing is visible until
/// <see cref="CompleteAsync"/>; <see cref="AbortAsync"/> discards it.
/// </summary>
public interface IMultipartWrite
{
    /// <summary>Uploads one part of new data; returns what the commit needs to name it (an ETag, a block id).</summary>
    Task<string> UploadPartAsync(int number, PartContent data, CancellationToken cancellationToken);

    /// <summary>Makes a kept part of the existing object a part of this upload, server-side.</summary>
    Task<string> AddKeptPartAsync(int number, KeptPart part, CancellationToken cancellationToken);

    /// <summary>
    /// The commit point. <paramref name="md5"/> is the whole object's MD5 when every byte passed through and the
    /// store keeps it (<see cref="IObjectStore.KeepsWholeObjectMd5"/>). <paramref name="metadata"/>, when given, is
    /// the object's metadata once committed, known only now (the whole object's SHA-256): a store that fixed the
    /// metadata when the write began sets it after the commit, never failing a committed write for it.
    /// </summary>
    Task CompleteAsync(IReadOnlyList<(int Number, string Token)> parts, WriteCondition condition, byte[]? md5, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken);

    /// <summary>Discards the parts; never throws (the store's own expiry is the backstop).</summary>
    Task AbortAsync();
}

/// <summary>The one place a store's failures become storage errors.</summary>
internal static class ObjectStoreCalls
{
    /// <summary>Runs calls to the store for <paramref name="path"/>, turning the SDK's failures into <see cref="StorageException"/>.</summary>
    public static async Task<T> CallAsync<T>(this IObjectStore store, StoragePath path, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (store.IsBackendFailure(ex))
        {
            throw store.Translate(ex, path);
        }
    }
}

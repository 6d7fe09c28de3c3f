namespace FtpGateway.Storage;

/// <summary>What a provider can do natively; the FTP layer advertises (FEAT) and allows only these.</summary>
[Flags]
public enum StorageCapabilities
{
    None = 0,

    /// <summary>APPE: add to the end of an existing file.</summary>
    Append = 1,

    /// <summary>REST n + STOR: keep the first n bytes of an existing file and write from there.</summary>
    ResumeUpload = 2,

    /// <summary>Rename is atomic for readers (a file is visible under exactly one name at every moment).</summary>
    AtomicRename = 4,

    /// <summary>The modification time can be set (MFMT) and is reported back.</summary>
    SetModificationTime = 8,

    /// <summary>Entries carry a <see cref="StorageEntry.UniqueId"/> that names the file itself (MLSx "unique" fact, RFC 3659 §7.5.2).</summary>
    UniqueIds = 16,
}

/// <summary>How an upload combines with what exists at the path.</summary>
public enum UploadMode
{
    /// <summary>Replace any existing file once the new one is complete (STOR).</summary>
    Replace,

    /// <summary>Fail with <see cref="StorageErrorKind.AlreadyExists"/> if something exists (STOU).</summary>
    CreateNew,

    /// <summary>Existing content followed by the new data (APPE); creates the file if absent.</summary>
    Append,

    /// <summary>The first <see cref="UploadRequest.Offset"/> bytes of the existing file, then the new data (REST + STOR).</summary>
    Resume,
}

/// <summary>
/// One upload. <see cref="BeforeCommit"/> is called once the source stream has ended and before anything
/// becomes visible; if it throws, the provider must discard the upload. The FTP layer uses it to check that
/// the client is still there (a killed client closes the data connection exactly like one that finished).
/// </summary>
public sealed record UploadRequest(StoragePath Path, Stream Source)
{
    public UploadMode Mode { get; init; } = UploadMode.Replace;

    public long Offset { get; init; }

    public Func<CancellationToken, ValueTask>? BeforeCommit { get; init; }

    /// <summary>
    /// Stored with the object where the store keeps user metadata (S3 user metadata, blob metadata): names of
    /// letters, digits and underscores, values in ASCII. The FTP layer puts the upload's trace context here.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

/// <summary>
/// The storage seen by the FTP layer: shaped for object stores (flat keys, streaming, commit on completion),
/// implemented also by the local disk. Paths are already jailed and normalised. Expected failures are thrown
/// as <see cref="StorageException"/>.
/// </summary>
public interface IStorageProvider
{
    /// <summary>Short name for logs and metrics ("FileSystem", "S3", "AzureBlob").</summary>
    string Name { get; }

    /// <summary>
    /// Where <paramref name="path"/> lives in the store, for events that tell downstream systems about a file:
    /// <c>s3://bucket/key</c>, the blob's URL, or the file's full path. Null where the provider cannot say.
    /// </summary>
    string? Locate(StoragePath path) => null;

    /// <summary>
    /// Which store this is, for an operator reading a start-up error: "S3 bucket 'inbox' at http://minio:9000",
    /// "Azure container 'ftp' at https://acct.blob.core.windows.net/", "local disk /srv/ftp". Never a secret.
    /// </summary>
    string Describe() => Name;

    StorageCapabilities Capabilities { get; }

    /// <summary>Hash algorithms (HASH names: "SHA-256", "SHA-1", "MD5", "CRC32") this provider answers cheaply.</summary>
    IReadOnlyList<string> HashAlgorithms { get; }

    /// <summary>The entry at <paramref name="path"/>, or null if nothing is there. The root always exists.</summary>
    ValueTask<StorageEntry?> GetEntryAsync(StoragePath path, CancellationToken cancellationToken);

    /// <summary>
    /// The children of a directory, streamed (providers page internally and never hold a whole large
    /// directory). Order is provider-defined. Throws NotFound / NotADirectory.
    /// </summary>
    IAsyncEnumerable<StorageEntry> ListAsync(StoragePath directory, CancellationToken cancellationToken);

    /// <summary>A stream of the file's bytes from <paramref name="offset"/> (a ranged read on object stores).</summary>
    ValueTask<Stream> OpenReadAsync(StoragePath path, long offset, CancellationToken cancellationToken);

    /// <summary>
    /// Whether an upload to <paramref name="path"/> can start: its directory exists, the name is not a directory,
    /// and it is a name the store can hold. Asked before the client sends any data, so that a refusal is a reply
    /// (553, 550) instead of a transfer broken off after the 150; the upload itself checks again. Throws NotFound
    /// (the directory does not exist), NotADirectory, IsADirectory or InvalidName.
    /// </summary>
    ValueTask CheckUploadTargetAsync(StoragePath path, CancellationToken cancellationToken);

    /// <summary>
    /// Reads <see cref="UploadRequest.Source"/> to its end and commits the file. Returns only once the file is
    /// durably visible; throws (and leaves the previous file, or nothing, in place) otherwise.
    /// </summary>
    ValueTask<StorageEntry> UploadAsync(UploadRequest request, CancellationToken cancellationToken);

    ValueTask DeleteFileAsync(StoragePath path, CancellationToken cancellationToken);

    /// <summary>Creates one directory; its parent must exist. Throws AlreadyExists if anything is there.</summary>
    ValueTask CreateDirectoryAsync(StoragePath path, CancellationToken cancellationToken);

    /// <summary>Removes an empty directory; throws DirectoryNotEmpty otherwise.</summary>
    ValueTask DeleteDirectoryAsync(StoragePath path, CancellationToken cancellationToken);

    /// <summary>
    /// Renames a file (replacing an existing file at the target) or a directory (the target must not exist).
    /// </summary>
    ValueTask RenameAsync(StoragePath source, StoragePath target, CancellationToken cancellationToken);

    /// <summary>Sets the modification time reported for a file (MFMT). Requires <see cref="StorageCapabilities.SetModificationTime"/>.</summary>
    ValueTask SetModificationTimeAsync(StoragePath path, DateTimeOffset time, CancellationToken cancellationToken);

    /// <summary>The file's digest in one of <see cref="HashAlgorithms"/>.</summary>
    ValueTask<byte[]> GetHashAsync(StoragePath path, string algorithm, CancellationToken cancellationToken);

    /// <summary>A cheap round trip proving the storage answers (readiness probes, start-up validation).</summary>
    ValueTask ProbeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The same storage for one user whose root is <paramref name="root"/>: where the storage could reach past a
    /// path's text (symbolic links on a disk), the view keeps every operation inside that root. Paths stay full
    /// storage paths. Object stores, where a key means only itself, return themselves.
    /// </summary>
    IStorageProvider ForRoot(StoragePath root);
}

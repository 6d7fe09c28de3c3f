namespace FtpGateway.Storage;

/// <summary>Why a storage operation failed, in terms the FTP layer can map to one reply code.</summary>
public enum StorageErrorKind
{
    /// <summary>The path (or its parent) does not exist.</summary>
    NotFound,

    /// <summary>Something already exists where the operation needs nothing.</summary>
    AlreadyExists,

    /// <summary>A directory was expected.</summary>
    NotADirectory,

    /// <summary>A file was expected.</summary>
    IsADirectory,

    /// <summary>A directory that must be empty is not.</summary>
    DirectoryNotEmpty,

    /// <summary>The name is not allowed by the storage (reserved, too long, bad characters).</summary>
    InvalidName,

    /// <summary>The storage refused access.</summary>
    AccessDenied,

    /// <summary>Out of space, quota or a size limit of the store.</summary>
    InsufficientStorage,

    /// <summary>The provider cannot do this (or not with these parameters).</summary>
    NotSupported,

    /// <summary>A configured limit was exceeded (e.g. too many objects to rename a directory).</summary>
    LimitExceeded,

    /// <summary>A restart offset lies beyond the end of the file.</summary>
    InvalidRange,

    /// <summary>The file changed while this operation depended on its previous version (a concurrent APPE).</summary>
    Conflict,

    /// <summary>The backend failed or is unreachable; retrying later may work.</summary>
    Unavailable,

    /// <summary>The object is under a retention that has not ended (S3 Object Lock): it can be neither changed nor deleted.</summary>
    Retained,
}

/// <summary>
/// The only exception type providers throw for expected failures. Its message is for logs; the FTP layer
/// never shows it to clients (it answers a fixed text per <see cref="Kind"/>).
/// </summary>
public sealed class StorageException : Exception
{
    public StorageException(StorageErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    public StorageErrorKind Kind { get; }

    public static StorageException NotFound(StoragePath path) => new(StorageErrorKind.NotFound, $"'{path}' does not exist");
}

namespace FtpGateway.Storage.FileSystem;

/// <summary>What an errno from the local disk means in storage terms.</summary>
internal static class FileSystemErrors
{
    public static StorageException For(int errno, StoragePath path, string doing) => errno switch
    {
        Libc.ENOENT or Libc.ELOOP => new StorageException(StorageErrorKind.NotFound, $"'{path}' does not exist ({doing}, errno {errno})"),
        Libc.EXDEV => new StorageException(StorageErrorKind.NotSupported, $"'{path}' cannot move between file systems ({doing})"),
        Libc.ENOTDIR => new StorageException(StorageErrorKind.NotADirectory, $"A part of '{path}' is not a directory ({doing})"),
        Libc.EISDIR => new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory ({doing})"),
        Libc.EEXIST => new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists ({doing})"),
        Libc.ENOTEMPTY => new StorageException(StorageErrorKind.DirectoryNotEmpty, $"'{path}' is not empty ({doing})"),
        Libc.ENOSPC or Libc.EDQUOT => new StorageException(StorageErrorKind.InsufficientStorage, $"No space left ({doing} '{path}')"),
        Libc.ENAMETOOLONG => new StorageException(StorageErrorKind.InvalidName, $"'{path}' is too long ({doing})"),
        Libc.EINVAL => new StorageException(StorageErrorKind.InvalidName, $"'{path}' is not allowed here ({doing})"),
        Libc.EACCES or Libc.EPERM or Libc.EROFS => new StorageException(StorageErrorKind.AccessDenied, $"Access to '{path}' denied ({doing}, errno {errno})"),
        _ => new StorageException(StorageErrorKind.Unavailable, $"I/O error on '{path}' ({doing}, errno {errno})"),
    };

    /// <summary>An <see cref="IOException"/> from a read or write, in storage terms.</summary>
    public static StorageException For(IOException ex, StoragePath path, string doing) =>
        new(For(ex.HResult & 0xFFFF, path, doing).Kind, $"{doing} '{path}': {ex.Message}", ex);
}

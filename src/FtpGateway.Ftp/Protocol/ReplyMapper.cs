using FtpGateway.Storage;

namespace FtpGateway.Ftp.Protocol;

/// <summary>
/// The one place storage failures become FTP replies. Clients get a fixed text per kind; the exception's
/// message (paths, backend details) goes to the log only.
/// </summary>
internal static class ReplyMapper
{
    public static (int Code, string Text) Map(StorageErrorKind kind) => kind switch
    {
        StorageErrorKind.NotFound => (ReplyCodes.FileUnavailable, "No such file or directory."),
        StorageErrorKind.AlreadyExists => (ReplyCodes.FileUnavailable, "File or directory already exists."),
        StorageErrorKind.NotADirectory => (ReplyCodes.FileUnavailable, "Not a directory."),
        StorageErrorKind.IsADirectory => (ReplyCodes.FileUnavailable, "Is a directory."),
        StorageErrorKind.DirectoryNotEmpty => (ReplyCodes.FileUnavailable, "Directory not empty."),
        StorageErrorKind.AccessDenied => (ReplyCodes.FileUnavailable, "Permission denied."),
        StorageErrorKind.InvalidName => (ReplyCodes.FileNameNotAllowed, "File name not allowed."),
        StorageErrorKind.InsufficientStorage => (ReplyCodes.ExceededStorage, "Insufficient storage space."),
        StorageErrorKind.NotSupported => (ReplyCodes.NotImplementedForParameter, "Not supported by this storage."),
        StorageErrorKind.LimitExceeded => (ReplyCodes.FileUnavailable, "Operation exceeds a configured limit."),
        StorageErrorKind.InvalidRange => (ReplyCodes.InvalidRestartOffset, "Restart offset is beyond the end of the file."),
        StorageErrorKind.Retained => (ReplyCodes.FileUnavailable, "The file is under retention (write-once storage); it cannot be changed, replaced or deleted."),
        StorageErrorKind.Conflict => (ReplyCodes.LocalError, "The file was changed by another client meanwhile; nothing was written. Try again."),
        _ => (ReplyCodes.LocalError, "Storage temporarily unavailable; try again later."),
    };
}

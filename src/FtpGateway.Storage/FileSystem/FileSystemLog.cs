using Microsoft.Extensions.Logging;

namespace FtpGateway.Storage.FileSystem;

/// <summary>The local-disk provider's log events (ids 400-409).</summary>
internal static partial class FileSystemLog
{
    [LoggerMessage(400, LogLevel.Information, "Removed {Count} stale upload temporaries (left by a process that stopped)")]
    public static partial void StaleTemporariesRemoved(ILogger logger, int count);

    [LoggerMessage(402, LogLevel.Warning, "Could not remove stale upload temporaries: {Reason}")]
    public static partial void StaleTemporariesNotRemoved(ILogger logger, string reason);

    [LoggerMessage(401, LogLevel.Warning, "Listing skipped {Path}: {Reason}")]
    public static partial void EntrySkipped(ILogger logger, string path, string reason);
}

namespace FtpGateway.Storage.FileSystem;

/// <summary>Configuration section <c>Storage:FileSystem</c>.</summary>
public sealed class FileSystemStorageOptions
{
    public const string SectionName = "Storage:FileSystem";

    /// <summary>The directory that holds every user's files. Created at start-up if missing.</summary>
    public string Root { get; set; } = "./data";

    /// <summary>false: uploads go through named temporaries, as on a file system without <c>O_TMPFILE</c> (tests; not configurable).</summary>
    internal bool UnnamedTemporaries { get; init; } = true;
}

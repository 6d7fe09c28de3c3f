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

    /// <summary>
    /// The pooled buffers parts are made of: 1 MiB (less for a smaller part). Parts grow past the configured size
    /// (<see cref="PartSchedule"/>), and a part rounds up to whole chunks: with chunks of the part size, a 9 MiB
    /// part held 16 MiB and a 1 GiB upload 64 MiB instead of its 40 MiB budget (benchmark, gcdump).
    /// </summary>
    public int ChunkSize => (int)Math.Min(PartSize, 1024 * 1024);

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

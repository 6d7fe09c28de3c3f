namespace FtpGateway.Storage;

/// <summary>What a provider knows about one file or directory, as cheaply as a listing page gives it.</summary>
/// <param name="Path">Full path in the provider's namespace.</param>
/// <param name="IsDirectory">Directory (real, marker object or implied prefix).</param>
/// <param name="Size">Bytes; 0 for directories.</param>
/// <param name="LastModified">Modification time (the client-set one where the provider stores it); null if unknown.</param>
public sealed record StorageEntry(StoragePath Path, bool IsDirectory, long Size, DateTimeOffset? LastModified)
{
    public string Name => Path.Name;

    /// <summary>An identifier stable for this version of the entry (MLSD "unique" fact), where the provider has one.</summary>
    public string? UniqueId { get; init; }

    /// <summary>The whole file's SHA-256, where the provider knows it (an upload's result: computed as it streamed).</summary>
    public byte[]? Sha256 { get; init; }
}

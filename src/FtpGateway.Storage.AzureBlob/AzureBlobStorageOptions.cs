namespace FtpGateway.Storage.AzureBlob;

/// <summary>Configuration section <c>Storage:AzureBlob</c>.</summary>
public sealed class AzureBlobStorageOptions
{
    public const string SectionName = "Storage:AzureBlob";

    /// <summary>A storage connection string (account key or SAS). Either this or <see cref="ServiceUri"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The blob service endpoint, e.g. https://account.blob.core.windows.net. Authenticated with the default
    /// Azure credential chain (workload identity, managed identity, environment, Azure CLI), or by a SAS token
    /// in its query string.
    /// </summary>
    public string? ServiceUri { get; set; }

    /// <summary>The container (required).</summary>
    public string Container { get; set; } = string.Empty;

    /// <summary>Blob name prefix for everything the gateway writes (optional).</summary>
    public string? Prefix { get; set; }

    /// <summary>Block size in MiB (1–4000). Memory per upload is at most BlockSizeMiB × (MaxConcurrentBlocks + 1).</summary>
    public int BlockSizeMiB { get; set; } = 8;

    /// <summary>Blocks staged in parallel per transfer.</summary>
    public int MaxConcurrentBlocks { get; set; } = 4;

    /// <summary>Access tier for new blobs: Hot, Cool, Cold or Archive; empty for the account's default.</summary>
    public string? AccessTier { get; set; }

    /// <summary>Most blobs a directory rename may copy; larger renames are refused with 550.</summary>
    public int MaxRenameObjects { get; set; } = 10_000;

    /// <summary>How long what the gateway saw of a directory spares an upload its directory checks (zero: always check).</summary>
    public TimeSpan DirectoryCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    internal long BlockSize => BlockSizeMiB * 1024L * 1024;

    internal string NamePrefix => string.IsNullOrWhiteSpace(Prefix) ? string.Empty : Prefix.Trim('/') + "/";

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ConnectionString) == string.IsNullOrWhiteSpace(ServiceUri))
        {
            errors.Add("Set exactly one of Storage:AzureBlob:ConnectionString and Storage:AzureBlob:ServiceUri");
        }

        if (ServiceUri is { Length: > 0 } uri && !Uri.TryCreate(uri, UriKind.Absolute, out _))
        {
            errors.Add($"Storage:AzureBlob:ServiceUri '{uri}' is not an absolute URL");
        }

        if (string.IsNullOrWhiteSpace(Container))
        {
            errors.Add("Storage:AzureBlob:Container is required");
        }

        if (BlockSizeMiB is < 1 or > 4000)
        {
            errors.Add("Storage:AzureBlob:BlockSizeMiB must be between 1 and 4000");
        }

        if (MaxConcurrentBlocks is < 1 or > 64)
        {
            errors.Add("Storage:AzureBlob:MaxConcurrentBlocks must be between 1 and 64");
        }

        if (AccessTier is { Length: > 0 } tier && tier is not ("Hot" or "Cool" or "Cold" or "Archive"))
        {
            errors.Add("Storage:AzureBlob:AccessTier must be Hot, Cool, Cold or Archive");
        }

        if (MaxRenameObjects < 1)
        {
            errors.Add("Storage:AzureBlob:MaxRenameObjects must be at least 1");
        }

        if (DirectoryCacheDuration < TimeSpan.Zero)
        {
            errors.Add("Storage:AzureBlob:DirectoryCacheDuration must not be negative");
        }

        return errors;
    }
}

using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FtpGateway.Storage.ObjectStore;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Storage.AzureBlob;

/// <summary>
/// Files as block blobs in one container: the shared object-store rules (<see cref="ObjectStoreProvider"/>) over
/// the container's primitives (<see cref="AzureObjectStore"/>).
/// </summary>
public static class AzureBlobStorage
{
    /// <summary>Validates <paramref name="options"/> (the exception names every invalid key), then creates the client and the provider.</summary>
    /// <param name="options">the settings.</param>
    /// <param name="logger">where the provider logs what clients are not told (names it cannot list).</param>
    /// <param name="time">the gateway's clock: it ages what the gateway knows of directories, stamps uploads and bounds an abort.</param>
    public static ObjectStoreProvider Create(AzureBlobStorageOptions options, ILogger? logger = null, TimeProvider? time = null) =>
        Create(options, logger, time, parts: null);

    /// <param name="options">the settings.</param>
    /// <param name="logger">where the provider logs what clients are not told.</param>
    /// <param name="time">the gateway's clock: it ages what the gateway knows of directories, stamps uploads and bounds an abort.</param>
    /// <param name="parts">the block sizes, when not Azure's (tests: a schedule that grows within a few blocks).</param>
    internal static ObjectStoreProvider Create(AzureBlobStorageOptions options, ILogger? logger, TimeProvider? time, PartSchedule? parts)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = ObjectStoreSettings.Validated(
            options.Validate(),
            () => new(options.NamePrefix, parts ?? Schedule(options.BlockSize), options.MaxConcurrentBlocks, options.MaxRenameObjects)
            {
                DirectoryCacheDuration = options.DirectoryCacheDuration,
                MaxKeyLength = 1024,
            });
        var container = new AzureContainer(CreateContainerClient(options), string.IsNullOrEmpty(options.AccessTier) ? (AccessTier?)null : new AccessTier(options.AccessTier));
        return new ObjectStoreProvider(new AzureObjectStore(container), settings, logger, time);
    }

    /// <summary>
    /// Azure's limits: 50,000 blocks of at most 4,000 MiB. The full 190.7 TiB would need every block at its largest
    /// from the start (8 GB of memory per upload); blocks grow instead so that an upload can reach 100 TiB, at the
    /// same memory per volume as S3's schedule.
    /// </summary>
    internal static PartSchedule Schedule(long firstBlockSize) => new(firstBlockSize, 4000L << 20, 50_000, 100L << 40);

    public static BlobContainerClient CreateContainerClient(AzureBlobStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Retries ride out blips; with these a store that is gone is reported (451) within about 10 s.
        var clientOptions = new BlobClientOptions();
        clientOptions.Retry.MaxRetries = 3;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(500);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(4);
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(60);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new BlobServiceClient(options.ConnectionString, clientOptions).GetBlobContainerClient(options.Container);
        }

        var uri = new Uri(options.ServiceUri!);
        var service = uri.Query.Contains("sig=", StringComparison.Ordinal)
            ? new BlobServiceClient(uri, clientOptions) // a SAS carries its own authorization
            : new BlobServiceClient(uri, new DefaultAzureCredential(), clientOptions);
        return service.GetBlobContainerClient(options.Container);
    }
}

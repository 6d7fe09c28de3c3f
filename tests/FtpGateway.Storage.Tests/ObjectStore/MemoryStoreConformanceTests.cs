using FtpGateway.Storage.ObjectStore;

namespace FtpGateway.Storage.Tests.ObjectStore;

/// <summary>The shared object-store rules pass the provider conformance suite over a store laid out as S3 lays it out.</summary>
public sealed class MemoryS3LayoutConformanceTests : StorageProviderConformanceTests
{
    protected override IStorageProvider Provider { get; } = MemoryStores.Provider(new MemoryObjectStore(azureLayout: false));
}

/// <summary>... and as Azure lays it out (markers under the directory's own key, listings that start at a key).</summary>
public sealed class MemoryAzureLayoutConformanceTests : StorageProviderConformanceTests
{
    protected override IStorageProvider Provider { get; } = MemoryStores.Provider(new MemoryObjectStore(azureLayout: true));
}

internal static class MemoryStores
{
    public const long MiB = 1024 * 1024;

    /// <summary>A provider over <paramref name="store"/>: parts of 1 MiB growing by a MiB a part, two in flight, keys under "pre/".</summary>
    public static ObjectStoreProvider Provider(MemoryObjectStore store, TimeProvider? time = null, int maxParts = 8, int maxConcurrentParts = 2) =>
        new(store, Settings(maxParts, maxConcurrentParts), logger: null, time);

    public static ObjectStoreSettings Settings(int maxParts = 8, int maxConcurrentParts = 2) =>
        new("pre/", new PartSchedule(MiB, 64 * MiB, maxParts, maxParts * (maxParts + 1) / 2 * MiB), maxConcurrentParts, MaxRenameObjects: 100)
        {
            DirectoryCacheDuration = TimeSpan.FromSeconds(30),
            MaxKeyLength = 1024,
            KeyLengthInBytes = true,
        };
}

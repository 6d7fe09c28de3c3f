using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using FtpGateway.Storage.ObjectStore;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Storage.S3;

/// <summary>
/// Files as objects in one S3 bucket (AWS or any S3-compatible store): the shared object-store rules
/// (<see cref="ObjectStoreProvider"/>) over the bucket's primitives (<see cref="S3ObjectStore"/>).
/// </summary>
public static class S3Storage
{
    /// <summary>Validates <paramref name="options"/> (the exception names every invalid key), then creates the client and the provider.</summary>
    /// <param name="options">the settings.</param>
    /// <param name="logger">where the provider logs what clients are not told (names it cannot list).</param>
    /// <param name="time">the gateway's clock: it ages what the gateway knows of directories, stamps uploads and bounds an abort.</param>
    public static ObjectStoreProvider Create(S3StorageOptions options, ILogger? logger = null, TimeProvider? time = null) => Create(options, configure: null, logger, time);

    /// <param name="options">the settings.</param>
    /// <param name="configure">last changes to the SDK's configuration (tests record the requests it sends).</param>
    /// <param name="logger">where the provider logs what clients are not told (names it cannot list).</param>
    /// <param name="time">the gateway's clock: it ages what the gateway knows of directories, stamps uploads and bounds an abort.</param>
    /// <param name="parts">the part sizes, when not S3's (tests: a schedule that grows within a few parts).</param>
    internal static ObjectStoreProvider Create(S3StorageOptions options, Action<AmazonS3Config>? configure, ILogger? logger = null, TimeProvider? time = null, PartSchedule? parts = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = ObjectStoreSettings.Validated(
            options.Validate(),
            () => new(options.KeyPrefix, parts ?? Schedule(options.PartSize), options.MaxConcurrentParts, options.MaxRenameObjects)
            {
                DirectoryCacheDuration = options.DirectoryCacheDuration,
                MaxKeyLength = 1024,
                KeyLengthInBytes = true,
            });
        var bucket = new S3Bucket(CreateClient(options, configure), options, time ?? TimeProvider.System);
        return new ObjectStoreProvider(new S3ObjectStore(bucket, options), settings, logger, time);
    }

    /// <summary>S3's limits: 10,000 parts of at most 5 GiB, objects of at most 5 TiB. Parts grow so that an upload can reach 5 TiB.</summary>
    internal static PartSchedule Schedule(long firstPartSize) => new(firstPartSize, 5L << 30, 10_000, 5L << 40);

    /// <summary>A client configured as the provider's (tests and benchmarks use it to look at the bucket).</summary>
    public static IAmazonS3 CreateClient(S3StorageOptions options) => CreateClient(options, configure: null);

    private static AmazonS3Client CreateClient(S3StorageOptions options, Action<AmazonS3Config>? configure)
    {
        ArgumentNullException.ThrowIfNull(options);
        var whenRequired = options.ChecksumMode == S3ChecksumMode.WhenRequired;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = whenRequired ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED,
            ResponseChecksumValidation = whenRequired ? ResponseChecksumValidation.WHEN_REQUIRED : ResponseChecksumValidation.WHEN_SUPPORTED,
            TelemetryProvider = ActivityTracerProvider.Telemetry, // each S3 call a span (source AWSSDK.S3)
        };
        var region = string.IsNullOrWhiteSpace(options.Region) ? "us-east-1" : options.Region;
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        configure?.Invoke(config);
        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }
}

using Amazon.S3;
using Azure.Storage.Blobs;
using FtpGateway.Storage.AzureBlob;
using FtpGateway.Storage.S3;
using Xunit;

namespace FtpGateway.TestSupport;

/// <summary>
/// One radosgw (a production S3 implementation) and one bucket, shared by a test collection. Tests keep apart
/// by a key prefix each; <see cref="Client"/> is the independent SDK check of what landed.
/// </summary>
public sealed class S3StoreFixture : IAsyncLifetime
{
    public const string Bucket = "ftpgw-tests";

    public RadosGateway Server { get; private set; } = null!;

    public IAmazonS3 Client { get; private set; } = null!;

    /// <summary>Provider options for this store under <paramref name="prefix"/> (5 MiB parts; Content-MD5, which Ceph 16 needs).</summary>
    public S3StorageOptions Options(string prefix, Action<S3StorageOptions>? configure = null)
    {
        var options = new S3StorageOptions
        {
            Bucket = Bucket,
            Prefix = prefix,
            ServiceUrl = Server.ServiceUrl,
            ForcePathStyle = true,
            AccessKey = RadosGateway.AccessKey,
            SecretKey = RadosGateway.SecretKey,
            ChecksumMode = S3ChecksumMode.WhenRequired,
            PartSizeMiB = 5,
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>The gateway's configuration for this store, optionally through another address (a fault-injecting proxy).</summary>
    public Dictionary<string, string?> GatewaySettings(string prefix, int? port = null) => new()
    {
        ["Storage:Provider"] = "S3",
        ["Storage:S3:Bucket"] = Bucket,
        ["Storage:S3:Prefix"] = prefix,
        ["Storage:S3:ServiceUrl"] = port is { } p ? $"http://127.0.0.1:{p}" : Server.ServiceUrl,
        ["Storage:S3:ForcePathStyle"] = "true",
        ["Storage:S3:AccessKey"] = RadosGateway.AccessKey,
        ["Storage:S3:SecretKey"] = RadosGateway.SecretKey,
        ["Storage:S3:ChecksumMode"] = "WhenRequired",
        ["Storage:S3:PartSizeMiB"] = "5",
    };

    public async Task InitializeAsync()
    {
        Server = await RadosGateway.StartAsync();
        Client = S3Storage.CreateClient(Options(string.Empty));
        await Client.PutBucketAsync(Bucket);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>One Azurite and one container, shared by a test collection; tests keep apart by a name prefix each.</summary>
public sealed class AzureStoreFixture : IAsyncLifetime
{
    public const string ContainerName = "ftpgw-tests";

    public AzuriteServer Server { get; private set; } = null!;

    /// <summary>An SDK client straight to Azurite: the independent check of what landed.</summary>
    public BlobContainerClient Container { get; private set; } = null!;

    /// <summary>Provider options for this store under <paramref name="prefix"/> (1 MiB blocks).</summary>
    public AzureBlobStorageOptions Options(string prefix, Action<AzureBlobStorageOptions>? configure = null)
    {
        var options = new AzureBlobStorageOptions { ConnectionString = Server.ConnectionString, Container = ContainerName, Prefix = prefix, BlockSizeMiB = 1 };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>The gateway's configuration for this store, optionally through another port (a fault-injecting proxy).</summary>
    public Dictionary<string, string?> GatewaySettings(string prefix, int? port = null, int blockSizeMiB = 1) => new()
    {
        ["Storage:Provider"] = "AzureBlob",
        ["Storage:AzureBlob:ConnectionString"] = port is { } p ? Server.ConnectionString.Replace($":{Server.Port}/", $":{p}/", StringComparison.Ordinal) : Server.ConnectionString,
        ["Storage:AzureBlob:Container"] = ContainerName,
        ["Storage:AzureBlob:Prefix"] = prefix,
        ["Storage:AzureBlob:BlockSizeMiB"] = blockSizeMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public async Task InitializeAsync()
    {
        Server = await AzuriteServer.StartAsync();
        Container = new BlobServiceClient(Server.ConnectionString).GetBlobContainerClient(ContainerName);
        await Container.CreateAsync();
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

using System.Diagnostics;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FtpGateway.Storage.AzureBlob;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// STOR and RETR of the large file through the gateway into Azurite (in memory), beside a direct upload and
/// download with the Azure SDK (same block size and concurrency) in the same run.
/// </summary>
internal static class AzureBenchmark
{
    private const string ContainerName = "bench";

    public static async Task RunAsync(string work, string bigFile, int runs)
    {
        var defaults = new AzureBlobStorageOptions();
        Console.WriteLine($"Azure: starting Azurite (in memory); block size {defaults.BlockSizeMiB} MiB, {defaults.MaxConcurrentBlocks} blocks in flight for both gateway and SDK");
        await using var azurite = await AzuriteServer.StartAsync();
        var container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(ContainerName);
        await container.CreateAsync();
        await using var gateway = await Servers.StartGatewayAsync(
            work,
            "--Storage:Provider=AzureBlob",
            $"--Storage:AzureBlob:ConnectionString={azurite.ConnectionString}",
            $"--Storage:AzureBlob:Container={ContainerName}",
            "--Storage:AzureBlob:Prefix=gateway");

        var bytes = new FileInfo(bigFile).Length;
        var transfer = new StorageTransferOptions
        {
            MaximumTransferSize = defaults.BlockSizeMiB * 1024 * 1024,
            InitialTransferSize = defaults.BlockSizeMiB * 1024 * 1024,
            MaximumConcurrency = defaults.MaxConcurrentBlocks,
        };
        var samples = await ObjectStoreReport.MeasureAsync("Azure", runs,
            async () => (
                bytes / 1e6 / await Curl.TimeAsync(["-sS", "-T", bigFile, $"{gateway.Url}/big.bin"]),
                bytes / 1e6 / await Curl.TimeAsync(["-sS", "-o", "/dev/null", $"{gateway.Url}/big.bin"])),
            async () =>
            {
                var blob = container.GetBlobClient("sdk/big.bin");
                var clock = Stopwatch.StartNew();
                await blob.UploadAsync(bigFile, new BlobUploadOptions
                {
                    TransferOptions = transfer,
                    TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
                });
                var up = bytes / 1e6 / clock.Elapsed.TotalSeconds;
                clock.Restart();
                using (var download = (await blob.DownloadStreamingAsync()).Value)
                {
                    await download.Content.CopyToAsync(Stream.Null);
                }

                return (up, bytes / 1e6 / clock.Elapsed.TotalSeconds);
            });

        var stored = (await container.GetBlobClient("gateway/big.bin").GetPropertiesAsync()).Value.ContentLength;
        if (stored != bytes)
        {
            throw new InvalidOperationException($"The gateway stored {stored} bytes of {bytes}");
        }

        ObjectStoreReport.Print("Azure (Azurite)", "FtpGateway (FTP to Azure)", "Azure SDK direct", samples, gateway.PeakRssMiB());
    }
}

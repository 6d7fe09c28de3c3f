using System.Diagnostics;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FtpGateway.Storage.AzureBlob;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// The gateway on Azurite (in memory) against the Azure SDK doing the same operations directly: sequential
/// small uploads (one Put Blob each), the listing pages of a large folder (one level, with metadata, as the
/// gateway lists), a one-stream upload (one block at a time) and download of the large file, and the SDK's
/// parallel upload beside them.
/// </summary>
internal static class AzureBenchmark
{
    private const string ContainerName = "bench";

    public static async Task RunAsync(Settings settings, Report report)
    {
        var work = Directory.CreateDirectory(Path.Combine(settings.Work, "azure")).FullName;
        var defaults = new AzureBlobStorageOptions();
        Console.WriteLine($"Azure: Azurite (in memory); block size {defaults.BlockSizeMiB} MiB, {defaults.MaxConcurrentBlocks} blocks in flight (gateway and the SDK's parallel upload)");
        await using var azurite = await AzuriteServer.StartAsync();
        var container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(ContainerName);
        await container.CreateAsync();
        await using var gateway = await Servers.StartGatewayAsync(
            work,
            "--Storage:Provider=AzureBlob",
            $"--Storage:AzureBlob:ConnectionString={azurite.ConnectionString}",
            $"--Storage:AzureBlob:Container={ContainerName}",
            "--Storage:AzureBlob:Prefix=gateway");

        (string, IReadOnlyList<int>)[] measured = [("the gateway", [gateway.ProcessId]), ("Azurite", [azurite.ProcessId])];
        await ObjectStoreRounds.SmallFilesAsync(settings, report, "azure", gateway, measured, "sequential Put Blob", prefix => SequentialUploadsAsync(container, prefix, settings.Files));

        await FillFolderAsync(container, "gateway/big-folder/", settings.ListEntries);
        var list = await Rounds.MedianAsync("LIST", settings.Runs,
            async () => (await FtpWorkloads.ListAsync(gateway, "big-folder")).Total,
            () => ListPagesAsync(container, "gateway/big-folder/"),
            warmUps: 30);
        report.Add(new Row("azure", $"LIST {settings.ListEntries} entries", "s", list.Gateway, "List Blobs pages", list.Peer, Better.Lower, 1 / 1.5));

        var size = new FileInfo(settings.BigFile).Length;
        var oneStream = new StorageTransferOptions { MaximumTransferSize = defaults.BlockSizeMiB * 1024 * 1024, InitialTransferSize = defaults.BlockSizeMiB * 1024 * 1024, MaximumConcurrency = 1 };
        var storCpu = CpuMeter.PerGiB(measured);
        var stor = await Rounds.MedianAsync("STOR", settings.Runs,
            () => FtpWorkloads.StorAsync(gateway, settings.BigFile, "big.bin", cpu: storCpu.Gateway),
            async () =>
            {
                await container.GetBlobClient("direct/big.bin").DeleteIfExistsAsync(); // as the gateway's round deletes its own (FtpWorkloads.StorAsync)
                return await storCpu.Peer.MeasureAsync(CpuMeter.GiB(size), () => UploadAsync(container.GetBlobClient("direct/big.bin"), settings.BigFile, oneStream));
            });
        report.Add(new Row("azure", $"STOR {settings.SizeMb} MiB", "MB/s", stor.Gateway, "one-stream upload", stor.Peer, Better.Higher, 0.9));
        report.Figure("azure", "CPU of the STOR rounds", storCpu.Describe());
        var retrCpu = CpuMeter.PerGiB(measured);
        var retr = await Rounds.MedianAsync("RETR", settings.Runs,
            () => FtpWorkloads.RetrAsync(gateway, "big.bin", size, cpu: retrCpu.Gateway),
            () => retrCpu.Peer.MeasureAsync(CpuMeter.GiB(size), () => DownloadAsync(container.GetBlobClient("direct/big.bin"), size)));
        report.Add(new Row("azure", $"RETR {settings.SizeMb} MiB", "MB/s", retr.Gateway, "one-stream download", retr.Peer, Better.Higher, 0.9));
        report.Figure("azure", "CPU of the RETR rounds", retrCpu.Describe());

        var parallel = await UploadAsync(container.GetBlobClient("direct/parallel.bin"), settings.BigFile, oneStream with { MaximumConcurrency = defaults.MaxConcurrentBlocks });
        report.Figure("azure", $"SDK parallel upload {settings.SizeMb} MiB", Report.Invariant($"{parallel:F0} MB/s ({defaults.MaxConcurrentBlocks} blocks in flight)"));

        // Azurite keeps every blob in memory: 4 GiB more on top of the rounds above ended it (connection reset).
        await container.GetBlobClient("direct/parallel.bin").DeleteIfExistsAsync();
        await ObjectStoreRounds.MemoryAsync(settings, report, "azure", gateway, capMb: 1024);
    }

    private static async Task<double> SequentialUploadsAsync(BlobContainerClient container, string prefix, int count)
    {
        var content = new byte[FtpWorkloads.SmallFileSize];
        Random.Shared.NextBytes(content);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            content[0] = (byte)i;
            await container.GetBlobClient($"{prefix}f{i:D6}.jpg").UploadAsync(new BinaryData(content));
        }

        return count / clock.Elapsed.TotalSeconds;
    }

    private static async Task FillFolderAsync(BlobContainerClient container, string prefix, int entries)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, entries), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            await container.GetBlobClient($"{prefix}IMG_{i:D7}.jpg").UploadAsync(new BinaryData(new byte[100]), ct));
        Console.WriteLine(Report.Invariant($"  set-up: {entries} blobs under {prefix} in {clock.Elapsed.TotalSeconds:F0} s"));
    }

    private static async Task<double> ListPagesAsync(BlobContainerClient container, string prefix)
    {
        var clock = Stopwatch.StartNew();
        await foreach (var page in container.GetBlobsByHierarchyAsync(new GetBlobsByHierarchyOptions { Traits = BlobTraits.Metadata, Delimiter = "/", Prefix = prefix }).AsPages())
        {
            _ = page.Values.Count;
        }

        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> UploadAsync(BlobClient blob, string file, StorageTransferOptions transfer)
    {
        var clock = Stopwatch.StartNew();
        await blob.UploadAsync(file, new BlobUploadOptions { TransferOptions = transfer });
        return new FileInfo(file).Length / 1e6 / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> DownloadAsync(BlobClient blob, long size)
    {
        var clock = Stopwatch.StartNew();
        using (var download = (await blob.DownloadStreamingAsync()).Value)
        {
            await download.Content.CopyToAsync(Stream.Null);
        }

        return size / 1e6 / clock.Elapsed.TotalSeconds;
    }
}

using System.Diagnostics;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using FtpGateway.Storage.S3;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// STOR and RETR of the large file through the gateway into a local radosgw, beside a direct upload and
/// download of the same file with the AWS SDK (TransferUtility, same part size and concurrency) in the same run.
/// </summary>
internal static class S3Benchmark
{
    private const string Bucket = "bench";

    public static async Task RunAsync(string work, string bigFile, int runs)
    {
        if (ExternalProcess.Find("radosgw") is null)
        {
            Console.WriteLine("S3: radosgw is not installed (apt-get install radosgw ceph-mon ceph-osd ceph-common); S3 figures skipped");
            return;
        }

        var defaults = new S3StorageOptions();
        Console.WriteLine($"S3: starting radosgw (memstore); part size {defaults.PartSizeMiB} MiB, {defaults.MaxConcurrentParts} parts in flight for both gateway and SDK");
        await using var rgw = await RadosGateway.StartAsync();
        var options = new S3StorageOptions
        {
            Bucket = Bucket,
            ServiceUrl = rgw.ServiceUrl,
            ForcePathStyle = true,
            AccessKey = RadosGateway.AccessKey,
            SecretKey = RadosGateway.SecretKey,
            ChecksumMode = S3ChecksumMode.WhenRequired,
        };
        using var client = S3StorageProvider.CreateClient(options);
        await client.PutBucketAsync(Bucket);
        await using var gateway = await Servers.StartGatewayAsync(
            work,
            "--Storage:Provider=S3",
            $"--Storage:S3:Bucket={Bucket}",
            "--Storage:S3:Prefix=gateway",
            $"--Storage:S3:ServiceUrl={rgw.ServiceUrl}",
            "--Storage:S3:ForcePathStyle=true",
            $"--Storage:S3:AccessKey={RadosGateway.AccessKey}",
            $"--Storage:S3:SecretKey={RadosGateway.SecretKey}",
            "--Storage:S3:ChecksumMode=WhenRequired");

        var bytes = new FileInfo(bigFile).Length;
        using var transfer = new TransferUtility(client, new TransferUtilityConfig { ConcurrentServiceRequests = options.MaxConcurrentParts });
        var samples = await ObjectStoreReport.MeasureAsync("S3", runs,
            async () => (
                bytes / 1e6 / await Curl.TimeAsync(["-sS", "-T", bigFile, $"{gateway.Url}/big.bin"]),
                bytes / 1e6 / await Curl.TimeAsync(["-sS", "-o", "/dev/null", $"{gateway.Url}/big.bin"])),
            async () =>
            {
                var clock = Stopwatch.StartNew();
                await transfer.UploadAsync(new TransferUtilityUploadRequest { BucketName = Bucket, Key = "sdk/big.bin", FilePath = bigFile, PartSize = options.PartSizeMiB * 1024L * 1024 });
                var up = bytes / 1e6 / clock.Elapsed.TotalSeconds;
                clock.Restart();
                using (var response = await client.GetObjectAsync(Bucket, "sdk/big.bin"))
                {
                    await response.ResponseStream.CopyToAsync(Stream.Null);
                }

                return (up, bytes / 1e6 / clock.Elapsed.TotalSeconds);
            });

        // Same object through both paths: what the gateway stored is what was sent.
        var stored = await client.GetObjectMetadataAsync(Bucket, "gateway/big.bin");
        if (stored.ContentLength != bytes)
        {
            throw new InvalidOperationException($"The gateway stored {stored.ContentLength} bytes of {bytes}");
        }

        ObjectStoreReport.Print("S3 (radosgw)", "FtpGateway (FTP to S3)", "AWS SDK direct", samples, gateway.PeakRssMiB());
    }
}

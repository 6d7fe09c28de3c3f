using System.Diagnostics;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using FtpGateway.Storage.S3;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// The gateway on a local radosgw against the AWS SDK doing the same operations on the same store directly, with
/// the same client settings: sequential PutObject of small files on one connection, the ListObjectsV2 pages of a
/// large folder, a one-stream PUT of the large file (and the SDK's parallel TransferUtility beside it); and a raw
/// HTTP client's GET (curl) of the object the gateway serves. Then a very large upload generated on the fly, for
/// the gateway's memory.
/// </summary>
internal static class S3Benchmark
{
    private const string Bucket = "bench";

    public static async Task RunAsync(Settings settings, Report report)
    {
        var work = Directory.CreateDirectory(Path.Combine(settings.Work, "s3")).FullName;
        var defaults = new S3StorageOptions();
        Console.WriteLine($"S3: radosgw (memstore); part size {defaults.PartSizeMiB} MiB, {defaults.MaxConcurrentParts} parts in flight (gateway and TransferUtility)");
        await using var rgw = await RadosGateway.StartAsync();
        var options = new S3StorageOptions
        {
            Bucket = Bucket,
            ServiceUrl = rgw.ServiceUrl,
            ForcePathStyle = true,
            AccessKey = RadosGateway.AccessKey,
            SecretKey = RadosGateway.SecretKey,
            ChecksumMode = S3ChecksumMode.WhenRequired, // radosgw 16 refuses the SDK's flexible checksums
        };
        using var client = S3Storage.CreateClient(options);
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

        (string, IReadOnlyList<int>)[] measured = [("the gateway", [gateway.ProcessId]), ("ceph (radosgw, OSD, monitor)", rgw.ProcessIds)];
        await ObjectStoreRounds.SmallFilesAsync(settings, report, "s3", gateway, measured, "sequential PutObject", prefix => SequentialPutsAsync(client, prefix, settings.Files));
        Console.WriteLine(Report.Invariant($"  (the gateway's peak RSS so far: {gateway.PeakRssMiB():F1} MiB)"));

        await FillFolderAsync(client, "gateway/big-folder/", settings.ListEntries);
        var list = await Rounds.MedianAsync("LIST", settings.Runs,
            async () => (await FtpWorkloads.ListAsync(gateway, "big-folder")).Total,
            () => ListPagesAsync(client, "gateway/big-folder/"),
            warmUps: 30);
        report.Add(new Row("s3", $"LIST {settings.ListEntries} entries", "s", list.Gateway, "ListObjectsV2 pages", list.Peer, Better.Lower, 1 / 1.5));
        Console.WriteLine(Report.Invariant($"  (the gateway's peak RSS so far: {gateway.PeakRssMiB():F1} MiB)"));

        var size = new FileInfo(settings.BigFile).Length;
        var storCpu = CpuMeter.PerGiB(measured);
        var stor = await Rounds.MedianAsync("STOR", settings.Runs,
            () => FtpWorkloads.StorAsync(gateway, settings.BigFile, "big.bin", cpu: storCpu.Gateway),
            async () =>
            {
                await client.DeleteObjectAsync(Bucket, "direct/big.bin"); // as the gateway's round deletes its own (FtpWorkloads.StorAsync)
                return await storCpu.Peer.MeasureAsync(CpuMeter.GiB(size), () => OneStreamPutAsync(client, "direct/big.bin", settings.BigFile));
            });
        report.Add(new Row("s3", $"STOR {settings.SizeMb} MiB", "MB/s", stor.Gateway, "one-stream PutObject", stor.Peer, Better.Higher, 0.9));
        report.Figure("s3", "CPU of the STOR rounds", storCpu.Describe());
        Console.WriteLine(Report.Invariant($"  (the gateway's peak RSS so far: {gateway.PeakRssMiB():F1} MiB)"));
        // The peer reads the very object the gateway serves: radosgw serves an object stored in parts faster than one
        // stored in one piece, and the SDK hashes an unranged download of the latter (README, "On S3").
        var retrCpu = CpuMeter.PerGiB(measured);
        var retr = await Rounds.MedianAsync("RETR", settings.Runs,
            () => FtpWorkloads.RetrAsync(gateway, "big.bin", size, cpu: retrCpu.Gateway),
            () => retrCpu.Peer.MeasureAsync(CpuMeter.GiB(size), () => RawGetAsync(rgw.ServiceUrl, "gateway/big.bin", size)));
        report.Add(new Row("s3", $"RETR {settings.SizeMb} MiB", "MB/s", retr.Gateway, "one GET, raw HTTP (curl)", retr.Peer, Better.Higher, 0.9));
        report.Figure("s3", "CPU of the RETR rounds", retrCpu.Describe());
        await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "gateway/one-piece.bin", FilePath = settings.BigFile });
        var onePiece = await FtpWorkloads.RetrAsync(gateway, "one-piece.bin", size);
        var sdkGet = await OneStreamGetAsync(client, "gateway/one-piece.bin", size);
        var rawGet = await RawGetAsync(rgw.ServiceUrl, "gateway/one-piece.bin", size);
        await client.DeleteObjectAsync(Bucket, "gateway/one-piece.bin"); // memstore keeps it in RAM
        report.Figure("s3", $"RETR {settings.SizeMb} MiB stored by one PutObject", Report.Invariant($"{onePiece:F0} MB/s (MD5 checked); the SDK's own GetObject of it {sdkGet:F0} MB/s, one raw GET {rawGet:F0} MB/s"));
        Console.WriteLine(Report.Invariant($"  (the gateway's peak RSS so far: {gateway.PeakRssMiB():F1} MiB)"));

        var copy = await SelfCopyAsync(client, "gateway/big.bin");
        report.Figure("s3", $"CopyObject of the {settings.SizeMb} MiB upload onto itself", Report.Invariant($"{copy:F2} s (the digest's metadata on a multipart upload; inside the gateway's STOR)"));

        using var transfer = new TransferUtility(client, new TransferUtilityConfig { ConcurrentServiceRequests = defaults.MaxConcurrentParts });
        var parallel = await ParallelUploadAsync(transfer, "direct/parallel.bin", settings.BigFile, defaults.PartSizeMiB);
        report.Figure("s3", $"TransferUtility upload {settings.SizeMb} MiB", Report.Invariant($"{parallel:F0} MB/s ({defaults.MaxConcurrentParts} parts in flight)"));

        if (settings.S3ListEntries > 0)
        {
            await FillFolderAsync(client, "gateway/huge-folder/", settings.S3ListEntries);
            var before = Servers.RssMiB(gateway.ProcessId);
            var (firstByte, total, lines) = await FtpWorkloads.ListAsync(gateway, "huge-folder");
            var pages = await ListPagesAsync(client, "gateway/huge-folder/");
            report.Figure("s3", $"LIST {settings.S3ListEntries} objects", Report.Invariant($"first byte {firstByte * 1000:F0} ms, all {lines} lines in {total:F1} s (the pages alone: {pages:F1} s); RSS {before:F0} MiB before, peak {gateway.PeakRssMiB():F0} MiB"));
        }

        await ObjectStoreRounds.MemoryAsync(settings, report, "s3", gateway);
    }

    private static async Task<double> SequentialPutsAsync(IAmazonS3 client, string prefix, int count)
    {
        var content = new byte[FtpWorkloads.SmallFileSize];
        Random.Shared.NextBytes(content);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            content[0] = (byte)i;
            await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = $"{prefix}f{i:D6}.jpg", InputStream = new MemoryStream(content) });
        }

        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>A folder of <paramref name="entries"/> small objects, written 32 at a time (untimed set-up).</summary>
    public static async Task FillFolderAsync(IAmazonS3 client, string prefix, int entries)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, entries), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = $"{prefix}IMG_{i:D7}.jpg", InputStream = new MemoryStream(new byte[100]) }, ct));
        Console.WriteLine(Report.Invariant($"  set-up: {entries} objects under {prefix} in {clock.Elapsed.TotalSeconds:F0} s"));
    }

    /// <summary>Every ListObjectsV2 page of a folder, one level (delimiter "/"), as the gateway lists it; in seconds.</summary>
    public static async Task<double> ListPagesAsync(IAmazonS3 client, string prefix)
    {
        var clock = Stopwatch.StartNew();
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix, Delimiter = "/" };
        ListObjectsV2Response page;
        do
        {
            page = await client.ListObjectsV2Async(request);
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>What a multipart upload's SHA-256 metadata costs (<c>S3Digests</c>): the object copied onto itself; in seconds.</summary>
    private static async Task<double> SelfCopyAsync(IAmazonS3 client, string key)
    {
        var clock = Stopwatch.StartNew();
        await client.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = Bucket,
            SourceKey = key,
            DestinationBucket = Bucket,
            DestinationKey = key,
            MetadataDirective = S3MetadataDirective.REPLACE,
            Metadata = { ["ftpgateway-sha256"] = new string('0', 64) },
        });
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> OneStreamPutAsync(IAmazonS3 client, string key, string file)
    {
        var clock = Stopwatch.StartNew();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, FilePath = file });
        return new FileInfo(file).Length / 1e6 / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> OneStreamGetAsync(IAmazonS3 client, string key, long size)
    {
        var clock = Stopwatch.StartNew();
        using (var response = await client.GetObjectAsync(Bucket, key))
        {
            await response.ResponseStream.CopyToAsync(Stream.Null);
        }

        return size / 1e6 / clock.Elapsed.TotalSeconds;
    }

    /// <summary>One GET with curl, a raw HTTP client signing with SigV4 (no SDK), into /dev/null; in MB/s.</summary>
    private static async Task<double> RawGetAsync(string serviceUrl, string key, long size) =>
        size / 1e6 / await Curl.TimeAsync(
        [
            "-sS", "--fail", "-o", "/dev/null", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            "--aws-sigv4", "aws:amz:us-east-1:s3", "-u", $"{RadosGateway.AccessKey}:{RadosGateway.SecretKey}", $"{serviceUrl}/{Bucket}/{key}",
        ]);

    private static async Task<double> ParallelUploadAsync(TransferUtility transfer, string key, string file, int partSizeMiB)
    {
        var clock = Stopwatch.StartNew();
        await transfer.UploadAsync(new TransferUtilityUploadRequest { BucketName = Bucket, Key = key, FilePath = file, PartSize = partSizeMiB * 1024L * 1024 });
        return new FileInfo(file).Length / 1e6 / clock.Elapsed.TotalSeconds;
    }
}

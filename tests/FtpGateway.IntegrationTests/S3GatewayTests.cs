using System.Security.Cryptography;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

[CollectionDefinition("S3")]
public sealed class S3Tests : ICollectionFixture<S3StoreFixture>;

/// <summary>Real FTP clients through the gateway into a real S3 server, checked in the bucket with the SDK.</summary>
[Collection("S3")]
public sealed class S3GatewayTests(S3StoreFixture s3) : IAsyncLifetime
{
    private readonly string _prefix = "e2e-" + Guid.NewGuid().ToString("N")[..10];
    private TcpProxy _proxy = null!;
    private Gateway _gateway = null!;
    private TempDirectory _work = null!;

    public async Task InitializeAsync()
    {
        _work = new TempDirectory();
        _proxy = new TcpProxy(s3.Server.Port);
        _gateway = await Gateway.StartAsync(s3.GatewaySettings(_prefix, _proxy.Port));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _proxy.DisposeAsync();
        _work.Dispose();
    }

    private async Task<byte[]?> ObjectAsync(string key)
    {
        try
        {
            using var response = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, $"{_prefix}/{key}");
            using var ms = new MemoryStream();
            await response.ResponseStream.CopyToAsync(ms);
            return ms.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<int> OpenMultipartUploadsAsync() =>
        ((await s3.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = S3StoreFixture.Bucket, Prefix = _prefix + "/" })).MultipartUploads ?? []).Count;

    private static void Succeeded(ExternalProcess.Result result) => Assert.True(result.ExitCode == 0, result.ToString());

    /// <summary>The files (not directory markers) stored under a directory, relative to it.</summary>
    private async Task<IReadOnlyCollection<string>> StoredFilesAsync(string directory)
    {
        var prefix = $"{_prefix}/{directory}/";
        var files = new List<string>();
        var request = new ListObjectsV2Request { BucketName = S3StoreFixture.Bucket, Prefix = prefix };
        ListObjectsV2Response page;
        do
        {
            page = await s3.Client.ListObjectsV2Async(request);
            files.AddRange((page.S3Objects ?? []).Where(o => !o.Key.EndsWith('/')).Select(o => o.Key[prefix.Length..]));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return files;
    }

    [Fact]
    public Task Rclone_CopyCheckSyncPurge() => ParallelClients.RcloneScenarioAsync(_gateway, _work, StoredFilesAsync);

    [Fact]
    public async Task Lftp_ParallelMirrorAndSegmentedDownloads()
    {
        await ParallelClients.LftpScenarioAsync(_gateway, _work);
        Assert.Equal(0, await OpenMultipartUploadsAsync());
    }

    [Theory]
    [InlineData("passive")]
    [InlineData("active")]
    public async Task PythonFtplib_FullSession(string mode)
    {
        var result = await _gateway.RunFtplibScenarioAsync(mode, "plain");
        Succeeded(result);
        Assert.Equal(0, await OpenMultipartUploadsAsync());
    }

    [Fact]
    public async Task Curl_AFileOfThreeParts_AndZeroBytes_LandByteForByte()
    {
        // Three parts of the gateway's 5 MiB (5, 5 and 2 MiB): what a file of hundreds of MiB does, at a tenth of the time.
        var curl = ExternalProcess.Require("curl");
        var big = RandomNumberGenerator.GetBytes((12 * 1024 * 1024) + 7);
        await File.WriteAllBytesAsync(_work.File("big.bin"), big);
        await File.WriteAllBytesAsync(_work.File("empty.bin"), []);

        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "--ftp-create-dirs", "-T", _work.File("big.bin"), $"{_gateway.UserUrl}/cam/big.bin"], timeout: TimeSpan.FromMinutes(5)));
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-T", _work.File("empty.bin"), $"{_gateway.UserUrl}/cam/empty.bin"]));
        Assert.Equal(SHA256.HashData(big), SHA256.HashData((await ObjectAsync("cam/big.bin"))!));
        Assert.EndsWith("-3\"", (await s3.Client.GetObjectMetadataAsync(S3StoreFixture.Bucket, $"{_prefix}/cam/big.bin")).ETag, StringComparison.Ordinal);
        var empty = await ObjectAsync("cam/empty.bin");
        Assert.NotNull(empty);
        Assert.Empty(empty);
        Assert.NotNull(await ObjectAsync("cam/")); // MKD made a directory marker

        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-o", _work.File("back.bin"), $"{_gateway.UserUrl}/cam/big.bin"], timeout: TimeSpan.FromMinutes(5)));
        Assert.Equal(SHA256.HashData(big), SHA256.HashData(await File.ReadAllBytesAsync(_work.File("back.bin"))));
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-C", "11000000", "-o", _work.File("tail.bin"), $"{_gateway.UserUrl}/cam/big.bin"]));
        Assert.Equal(SHA256.HashData(big.AsSpan(11_000_000)), SHA256.HashData(await File.ReadAllBytesAsync(_work.File("tail.bin"))));
        Assert.Equal(0, await OpenMultipartUploadsAsync());
    }

    [Fact]
    public async Task ACommandRightAfterTheDataConnectionCloses_NeverCostsTheUpload()
    {
        Assert.Empty(await UploadThenCommandRace.WithNoopAsync(_gateway.Port, uploads: 2_000, sessions: 8, Gateway.User, Gateway.Password));
        Assert.Empty(await UploadThenCommandRace.WithQuitAsync(_gateway.Port, uploads: 300, parallel: 8, Gateway.User, Gateway.Password));
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = S3StoreFixture.Bucket, Prefix = _prefix + "/" };
        ListObjectsV2Response page;
        do
        {
            page = await s3.Client.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        Assert.Equal(2_300, keys.Count);
    }

    [Fact]
    public async Task Lftp_MirrorsATree_IntoTheBucket()
    {
        Directory.CreateDirectory(_work.File("tree/sub"));
        var a = RandomNumberGenerator.GetBytes(6 * 1024 * 1024);
        await File.WriteAllBytesAsync(_work.File("tree/a.bin"), a);
        await File.WriteAllTextAsync(_work.File("tree/sub/b.txt"), "bee");
        var script = string.Join("; ",
            "set net:max-retries 1", "set net:timeout 20", "set ftp:ssl-allow no",
            $"open -u {Gateway.User},{Gateway.Password} -p {_gateway.Port} 127.0.0.1",
            $"mirror -R {_work.File("tree")} /tree",
            "mv /tree/sub/b.txt /tree/sub/c.txt",
            "cls -1 /tree/sub",
            "quit");
        var result = await ExternalProcess.RunAsync(ExternalProcess.Require("lftp"), ["-c", script]);
        Succeeded(result);
        Assert.Equal("c.txt", result.StandardOutput.Trim().Split('\n')[^1].Trim().TrimStart('/').Split('/')[^1]);
        Assert.Equal(a, await ObjectAsync("tree/a.bin"));
        Assert.Equal("bee", Encoding.UTF8.GetString((await ObjectAsync("tree/sub/c.txt"))!));
        Assert.Null(await ObjectAsync("tree/sub/b.txt"));
    }

    [Fact]
    public async Task Abor_DuringAMultipartUpload_LeavesNoObjectAndNoOpenUpload()
    {
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR aborted.bin", 150);
        await data.SendAsync(RandomNumberGenerator.GetBytes(12 * 1024 * 1024)); // two parts are on their way
        await c.SendRawAsync("ABOR\r\n"u8.ToArray());
        Assert.Equal(426, (await c.ReadReplyAsync()).Code);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Null(await ObjectAsync("aborted.bin"));
        Assert.Equal(0, await OpenMultipartUploadsAsync());
    }

    [Fact]
    public async Task AResetDataConnection_LeavesThePreviousObjectAndNoOpenUpload()
    {
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = $"{_prefix}/report.csv", ContentBody = "previous" });
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR report.csv", 150);
        await data.SendAsync(RandomNumberGenerator.GetBytes(11 * 1024 * 1024));
        data.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        data.Close();
        Assert.Equal(426, (await c.ReadReplyAsync()).Code);
        Assert.Equal("previous", Encoding.UTF8.GetString((await ObjectAsync("report.csv"))!));
        Assert.Equal(0, await OpenMultipartUploadsAsync());
    }

    [Fact]
    public async Task TheStoreDyingMidTransfer_IsNeverAnswered226_AndLeavesNoObject()
    {
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        var final = await StoreOutage.StoreWhileTheStoreDiesAsync(c, "doomed.bin", _proxy, 6 * 1024 * 1024);
        Assert.True(final.Code is 451 or 426, final.Text);
        Assert.DoesNotContain("127.0.0.1", final.Text, StringComparison.Ordinal);
        Assert.Null(await ObjectAsync("doomed.bin"));
        await c.ExpectAsync("NOOP", 200);
    }

    [Fact]
    public async Task DeleRenameMkdRmd_MapToObjects()
    {
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        await c.ExpectAsync("MKD inbox", 257);
        Assert.Equal(226, (await c.UploadAsync("STOR inbox/a.jpg.filepart", "jpeg"u8.ToArray())).Code);
        await c.ExpectAsync("RNFR inbox/a.jpg.filepart", 350);
        await c.ExpectAsync("RNTO inbox/a.jpg", 250);
        Assert.Equal("jpeg", Encoding.UTF8.GetString((await ObjectAsync("inbox/a.jpg"))!));
        Assert.Null(await ObjectAsync("inbox/a.jpg.filepart"));
        await c.ExpectAsync("RNFR inbox", 350);
        await c.ExpectAsync("RNTO archive", 250);
        Assert.Equal("jpeg", Encoding.UTF8.GetString((await ObjectAsync("archive/a.jpg"))!));
        await c.ExpectAsync("RMD archive", 550);
        await c.ExpectAsync("DELE archive/a.jpg", 250);
        await c.ExpectAsync("RMD archive", 250);
        Assert.Null(await ObjectAsync("archive/"));
        await c.ExpectAsync("MFMT 20010203040506 nothing", 550);
    }

    [Fact]
    public async Task Mfmt_IsStored_AndShownByMdtmMlstAndListings()
    {
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        Assert.Equal(226, (await c.UploadAsync("STOR timed.txt", "t"u8.ToArray())).Code);
        await c.ExpectAsync("MFMT 20200102030405 timed.txt", 213);
        Assert.Equal("213 20200102030405", (await c.SendAsync("MDTM timed.txt")).Text);
        Assert.Contains("modify=20200102030405;", (await c.ExpectAsync("MLST timed.txt", 250)).Lines[1], StringComparison.Ordinal);
        Assert.Contains("modify=20200102030405;", await c.ListAsync("MLSD"), StringComparison.Ordinal);
        Assert.Contains("Jan  2  2020 timed.txt", await c.ListAsync("LIST"), StringComparison.Ordinal);
        Assert.Equal("t", Encoding.UTF8.GetString((await ObjectAsync("timed.txt"))!));
    }

    [Fact]
    public async Task ConcurrentAppends_NeverAnswer226ForBytesThatWereLost()
    {
        // Regression: each APPE read the object, then wrote it back with its line: concurrent ones overwrote
        // each other and still answered 226. The write is now conditional on the version read.
        var (committed, refused) = await ConcurrentAppends.RunAsync(_gateway.Port, "log.txt", sessions: 4, appends: 12);
        ConcurrentAppends.AssertNothingLost(committed, Encoding.ASCII.GetString((await ObjectAsync("log.txt"))!));
        Assert.Equal(48, committed.Count + refused);
        Assert.NotEmpty(committed);
    }

    [Fact]
    public async Task AKeyWithALineBreak_IsNeverListed_NorSentOnTheControlConnection()
    {
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = $"{_prefix}/in/e\r\n212 injected\r\n", ContentBody = "x" });
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = $"{_prefix}/in/plain.txt", ContentBody = "x" });
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        var stat = await c.ExpectAsync("STAT /in", 212);
        Assert.Equal(3, stat.Lines.Count);
        Assert.DoesNotContain(stat.Lines, l => l.Contains("injected", StringComparison.Ordinal));
        await c.ExpectAsync("NOOP", 200);
        foreach (var listing in new[] { "LIST /in", "NLST /in", "MLSD /in" })
        {
            var (data, final) = await c.DownloadAsync(listing);
            Assert.Equal(226, final.Code);
            Assert.DoesNotContain("injected", Encoding.UTF8.GetString(data), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AMissingBucket_StopsTheGatewayAtStartUp()
    {
        var settings = s3.GatewaySettings(_prefix);
        settings["Storage:S3:Bucket"] = "no-such-bucket";
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () => await Gateway.StartAsync(settings));
        Assert.Equal(
            $"Storage (S3 bucket 'no-such-bucket' at {s3.Server.ServiceUrl}) is not usable: The bucket does not exist (/). Check the Storage settings.",
            failure.Message);
    }

    [Fact]
    public async Task AStoreThatNeverAnswers_StopsTheStart_SayingItTimedOut()
    {
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0); // accepts, never answers
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var settings = s3.GatewaySettings(_prefix);
        settings["Storage:S3:ServiceUrl"] = $"http://127.0.0.1:{port}";
        settings["Storage:ProbeTimeout"] = "00:00:02";
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () => await Gateway.StartAsync(settings));
        Assert.Equal($"Storage (S3 bucket '{S3StoreFixture.Bucket}' at http://127.0.0.1:{port}) did not answer: timed out after 2 s. Check the Storage settings.", failure.Message);
    }

    [Fact]
    public Task Upload_IntoAMissingDirectory_IsRefusedBefore150() => UploadRefusals.IntoAMissingDirectoryAsync(_gateway, _work);

    [Fact]
    public Task ANameTooLongForTheStore_IsTheClientsError() => UploadRefusals.TooLongForTheStoreAsync(_gateway, new string('k', 1_100));
}

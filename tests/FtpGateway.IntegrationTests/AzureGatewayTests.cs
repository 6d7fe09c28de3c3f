using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs.Specialized;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

[CollectionDefinition("Azure")]
public sealed class AzureTests : ICollectionFixture<AzureStoreFixture>;

/// <summary>Real FTP clients through the gateway into Azurite, checked with the SDK.</summary>
[Collection("Azure")]
public sealed class AzureGatewayTests(AzureStoreFixture azure) : IAsyncLifetime
{
    private readonly string _prefix = "e2e-" + Guid.NewGuid().ToString("N")[..10];
    private TcpProxy _proxy = null!;
    private Gateway _gateway = null!;
    private TempDirectory _work = null!;

    public async Task InitializeAsync()
    {
        _work = new TempDirectory();
        _proxy = new TcpProxy(azure.Server.Port);
        _gateway = await Gateway.StartAsync(azure.GatewaySettings(_prefix, _proxy.Port, blockSizeMiB: 4));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _proxy.DisposeAsync();
        _work.Dispose();
    }

    private async Task<byte[]?> BlobAsync(string name)
    {
        var blob = azure.Container.GetBlobClient($"{_prefix}/{name}");
        if (!await blob.ExistsAsync())
        {
            return null;
        }

        return (await blob.DownloadContentAsync()).Value.Content.ToArray();
    }

    private static void Succeeded(ExternalProcess.Result result) => Assert.True(result.ExitCode == 0, result.ToString());

    /// <summary>The files (not directory markers) stored under a directory, relative to it.</summary>
    private async Task<IReadOnlyCollection<string>> StoredFilesAsync(string directory)
    {
        var prefix = $"{_prefix}/{directory}/";
        var files = new List<string>();
        var options = new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix, Traits = Azure.Storage.Blobs.Models.BlobTraits.Metadata };
        await foreach (var blob in azure.Container.GetBlobsAsync(options))
        {
            if (!blob.Metadata.ContainsKey("hdi_isfolder")) // a directory marker
            {
                files.Add(blob.Name[prefix.Length..]);
            }
        }

        return files;
    }

    [Fact]
    public Task Rclone_CopyCheckSyncPurge() => ParallelClients.RcloneScenarioAsync(_gateway, _work, StoredFilesAsync);

    [Theory]
    [InlineData("passive")]
    [InlineData("active")]
    public async Task PythonFtplib_FullSession(string mode)
    {
        var result = await _gateway.RunFtplibScenarioAsync(mode, "plain");
        Succeeded(result);
        Assert.Equal("OK", result.StandardOutput.Trim());

        // The scenario ends by deleting all it made: the deletes reached the container.
        var left = new List<string>();
        await foreach (var blob in azure.Container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = _prefix + "/" }))
        {
            left.Add(blob.Name);
        }

        Assert.Empty(left);
    }

    [Fact]
    public async Task ConcurrentAppends_NeverAnswer226ForBytesThatWereLost()
    {
        var (committed, refused) = await ConcurrentAppends.RunAsync(_gateway.Port, "log.txt", sessions: 4, appends: 12);
        ConcurrentAppends.AssertNothingLost(committed, Encoding.ASCII.GetString((await BlobAsync("log.txt"))!));
        Assert.Equal(48, committed.Count + refused);
        Assert.NotEmpty(committed);
    }

    [Fact]
    public async Task Curl_AFileOfThreeBlocks_AndZeroBytes_LandByteForByte()
    {
        // Three blocks of the gateway's 4 MiB (4, 4 and 2 MiB): what a file of hundreds of MiB does, at a tenth of the time.
        var curl = ExternalProcess.Require("curl");
        var big = RandomNumberGenerator.GetBytes((10 * 1024 * 1024) + 3);
        await File.WriteAllBytesAsync(_work.File("big.bin"), big);
        await File.WriteAllBytesAsync(_work.File("empty.bin"), []);
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "--ftp-create-dirs", "-T", _work.File("big.bin"), $"{_gateway.UserUrl}/cam/big.bin"], timeout: TimeSpan.FromMinutes(5)));
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-T", _work.File("empty.bin"), $"{_gateway.UserUrl}/cam/empty.bin"]));
        Assert.Equal(SHA256.HashData(big), SHA256.HashData((await BlobAsync("cam/big.bin"))!));
        Assert.Empty((await BlobAsync("cam/empty.bin"))!);
        Assert.Equal(MD5.HashData(big), (await azure.Container.GetBlobClient($"{_prefix}/cam/big.bin").GetPropertiesAsync()).Value.ContentHash);
        Assert.Equal(3, (await azure.Container.GetBlockBlobClient($"{_prefix}/cam/big.bin").GetBlockListAsync()).Value.CommittedBlocks.Count());

        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-o", _work.File("back.bin"), $"{_gateway.UserUrl}/cam/big.bin"], timeout: TimeSpan.FromMinutes(5)));
        Assert.Equal(SHA256.HashData(big), SHA256.HashData(await File.ReadAllBytesAsync(_work.File("back.bin"))));
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-C", "9999999", "-o", _work.File("tail.bin"), $"{_gateway.UserUrl}/cam/big.bin"]));
        Assert.Equal(SHA256.HashData(big.AsSpan(9_999_999)), SHA256.HashData(await File.ReadAllBytesAsync(_work.File("tail.bin"))));
    }

    [Fact]
    public async Task Lftp_MirrorsATree_AndRenames()
    {
        Directory.CreateDirectory(_work.File("tree/sub"));
        var a = RandomNumberGenerator.GetBytes(5 * 1024 * 1024);
        await File.WriteAllBytesAsync(_work.File("tree/a.bin"), a);
        await File.WriteAllTextAsync(_work.File("tree/sub/b.txt"), "bee");
        var script = string.Join("; ",
            "set net:max-retries 1", "set net:timeout 20", "set ftp:ssl-allow no",
            $"open -u {Gateway.User},{Gateway.Password} -p {_gateway.Port} 127.0.0.1",
            $"mirror -R {_work.File("tree")} /tree",
            "mv /tree/sub /tree/moved",
            "quit");
        Succeeded(await ExternalProcess.RunAsync(ExternalProcess.Require("lftp"), ["-c", script]));
        Assert.Equal(a, await BlobAsync("tree/a.bin"));
        Assert.Equal("bee", Encoding.UTF8.GetString((await BlobAsync("tree/moved/b.txt"))!));
        Assert.Null(await BlobAsync("tree/sub/b.txt"));
    }

    [Fact]
    public async Task Abor_DuringAnUpload_LeavesNoBlob_AndTheOldOneIntact()
    {
        await azure.Container.GetBlobClient($"{_prefix}/keep.bin").UploadAsync(BinaryData.FromString("old"));
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR keep.bin", 150);
        await data.SendAsync(RandomNumberGenerator.GetBytes(10 * 1024 * 1024));
        await c.SendRawAsync("ABOR\r\n"u8.ToArray());
        Assert.Equal(426, (await c.ReadReplyAsync()).Code);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Equal("old", Encoding.UTF8.GetString((await BlobAsync("keep.bin"))!));
        await c.ExpectAsync("EPSV", 229);
        await c.ExpectAsync("NOOP", 200);
    }

    [Fact]
    public async Task TheStoreDyingMidTransfer_IsNeverAnswered226_AndLeavesNoBlob()
    {
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        var final = await StoreOutage.StoreWhileTheStoreDiesAsync(c, "doomed.bin", _proxy, 5 * 1024 * 1024);
        Assert.True(final.Code is 451 or 426, final.Text);
        Assert.Null(await BlobAsync("doomed.bin"));
    }

    [Fact]
    public async Task Mfmt_IsStored_AndShownInListings()
    {
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        Assert.Equal(226, (await c.UploadAsync("STOR timed.txt", "t"u8.ToArray())).Code);
        await c.ExpectAsync("MFMT 20200102030405 timed.txt", 213);
        Assert.Equal("213 20200102030405", (await c.SendAsync("MDTM timed.txt")).Text);
        Assert.Contains("modify=20200102030405;", await c.ListAsync("MLSD"), StringComparison.Ordinal);
        Assert.Equal("250 " + Convert.ToHexString(MD5.HashData("t"u8)), (await c.SendAsync("XMD5 timed.txt")).Text);
    }

    [Fact]
    public async Task AMissingContainer_StopsTheGatewayAtStartUp()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () => await Gateway.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "AzureBlob",
            ["Storage:AzureBlob:ConnectionString"] = azure.Server.ConnectionString,
            ["Storage:AzureBlob:Container"] = "no-such-container",
        }));
        Assert.StartsWith($"Storage (Azure container 'no-such-container' at http://127.0.0.1:{azure.Server.Port}) is not usable: The container 'no-such-container' does not exist", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public Task Upload_IntoAMissingDirectory_IsRefusedBefore150() => UploadRefusals.IntoAMissingDirectoryAsync(_gateway, _work);

    [Fact]
    public Task ANameTooLongForTheStore_IsTheClientsError() => UploadRefusals.TooLongForTheStoreAsync(_gateway, new string('k', 1_100));
}

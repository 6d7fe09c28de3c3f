using System.Net.Sockets;
using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests;

/// <summary>Upload temporaries and appends in place on the local disk, driven over real TCP the way a busy fleet would.</summary>
public sealed class LocalDiskUploadTests : IAsyncLifetime
{
    private readonly string _outside = Path.Combine(Path.GetTempPath(), "ftpgw-outside-" + Guid.NewGuid().ToString("N")[..10]);
    private TestServer _server = null!;

    private string Jail(string relative = "") => _server.Root.File(Path.Combine("home/jailed", relative));

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        Directory.CreateDirectory(Jail());
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "outside the storage root");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_outside, recursive: true);
    }

    private Task<RawFtpClient> JailedAsync() => RawFtpClient.LoginAsync(_server.Port, "jailed", "jail-pw");

    [Fact]
    public async Task ARenameOfTheDirectoryDuringAnUpload_StrandsNoTemporary_AndTheDirectoryCanBeRemoved()
    {
        Directory.CreateDirectory(Jail("incoming"));
        await using var uploader = await JailedAsync();
        await using var other = await JailedAsync();
        using (var data = await uploader.OpenPassiveAsync())
        {
            await uploader.ExpectAsync("STOR incoming/photo.jpg", 150);
            await data.SendAsync(new byte[50_000]);
            await Poll.UntilAsync(
                async () => !(await uploader.ExpectAsync("STAT", 211)).Text.Contains(", 0 bytes", StringComparison.Ordinal),
                "the upload to be under way");
            await other.ExpectAsync("RNFR incoming", 350);
            await other.ExpectAsync("RNTO archived", 250);
            await data.SendAsync(new byte[50_000]);
            data.Shutdown(SocketShutdown.Send);
            Assert.Equal(226, (await uploader.ReadReplyAsync()).Code);
        }

        Assert.Equal(100_000, new FileInfo(Jail("archived/photo.jpg")).Length); // it landed where its directory went
        await other.ExpectAsync("DELE archived/photo.jpg", 250);
        await other.ExpectAsync("RMD archived", 250);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Jail()));
        Assert.Empty(Directory.GetFiles(_server.Root.Path, "*.part", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task LeftoverTemporariesOfOlderVersions_AreNeitherListedNorKeepADirectoryFromBeingRemoved()
    {
        Directory.CreateDirectory(Jail("old"));
        File.WriteAllText(Jail("old/.ftpgw-0123456789abcdef.part"), "half an upload from before a crash");
        await using var c = await JailedAsync();
        Assert.Equal(string.Empty, await c.ListAsync("NLST old"));
        await c.ExpectAsync("RMD old", 250);
        Assert.False(Directory.Exists(Jail("old")));
    }

    [Theory]
    [InlineData("STOR .ftpgw-abc.part")]
    [InlineData("APPE .ftpgw-abc.part")]
    [InlineData("STOR sub/.ftpgw-uploads")]
    public async Task AnUploadToAReservedName_IsRefusedBefore150(string command)
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        using var data = await c.OpenPassiveAsync();
        Assert.Equal(553, (await c.SendAsync(command)).Code); // not 150: no data is read
        await c.ExpectAsync("MKD .ftpgw-uploads", 553);
        await c.ExpectAsync("CWD /.ftpgw-uploads", 553);
        await c.ExpectAsync("NOOP", 200);
    }

    [Fact]
    public async Task ListingsWhileAnotherSessionDeletes_AllComplete226()
    {
        Directory.CreateDirectory(_server.Root.File("busy"));
        for (var i = 0; i < 500; i++)
        {
            File.WriteAllText(_server.Root.File($"busy/f{i:D4}.txt"), "x");
        }

        await using var lister = await RawFtpClient.LoginAsync(_server.Port);
        await using var deleter = await RawFtpClient.LoginAsync(_server.Port);
        var deleting = Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                await deleter.ExpectAsync($"DELE busy/f{i:D4}.txt", 250);
            }
        });
        var finals = new List<int>();
        while (!deleting.IsCompleted || finals.Count < 3)
        {
            foreach (var listing in new[] { "MLSD busy", "LIST busy", "NLST busy" })
            {
                finals.Add((await lister.DownloadAsync(listing)).Final.Code);
            }
        }

        await deleting;
        Assert.All(finals, code => Assert.Equal(226, code));
    }

    [Fact]
    public async Task ConcurrentAppends_AllLand_EachAnswered226()
    {
        const int sessions = 4, appends = 50;
        File.WriteAllText(_server.Root.File("log.txt"), string.Empty);
        var tasks = Enumerable.Range(0, sessions).Select(async s =>
        {
            await using var c = await RawFtpClient.LoginAsync(_server.Port);
            for (var i = 0; i < appends; i++)
            {
                Assert.Equal(226, (await c.UploadAsync("APPE log.txt", Encoding.ASCII.GetBytes($"session {s} line {i}\n"))).Code);
            }
        });
        await Task.WhenAll(tasks);

        var lines = File.ReadAllLines(_server.Root.File("log.txt"));
        Assert.Equal(sessions * appends, lines.Length);
        Assert.Equal(sessions * appends, lines.Distinct().Count());
    }

    [Fact]
    public async Task Appe_WritesInPlace_AndAFailedAppendLeavesTheFileAsItWas()
    {
        var path = _server.Root.File("big.log");
        File.WriteAllBytes(path, new byte[3 * 1024 * 1024]);
        var before = Inode(path);
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        Assert.Equal(226, (await c.UploadAsync("APPE big.log", "eighteen bytes....\n"u8.ToArray())).Code);
        Assert.Equal(before, Inode(path)); // the same file, not a rewritten copy
        Assert.Equal((3 * 1024 * 1024) + 19, new FileInfo(path).Length);

        var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("APPE big.log", 150);
        await data.SendAsync(new byte[100_000]);
        data.LingerState = new LingerOption(true, 0);
        data.Close(); // a reset: the client died mid-append
        Assert.Equal(426, (await c.ReadReplyAsync()).Code);
        Assert.Equal((3 * 1024 * 1024) + 19, new FileInfo(path).Length);
    }

    private static string Inode(string path)
    {
        var stat = ExternalProcess.RunAsync(ExternalProcess.Require("stat"), ["-c", "%d:%i", path]).GetAwaiter().GetResult();
        return stat.StandardOutput.Trim();
    }
}

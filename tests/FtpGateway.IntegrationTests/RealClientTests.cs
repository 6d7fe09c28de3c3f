using System.Security.Cryptography;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Independent, widely used FTP clients against the real gateway host over loopback TCP, in passive and
/// active mode. Every upload is checked byte for byte on the storage side.
/// </summary>
public sealed class RealClientTests : IAsyncLifetime
{
    private Gateway _gateway = null!;
    private TempDirectory _work = null!;

    public async Task InitializeAsync()
    {
        _gateway = await Gateway.StartAsync();
        _work = new TempDirectory();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _work.Dispose();
    }

    private string Local(string name) => _work.File(name);

    private string Stored(string path) => _gateway.Root.File(path);

    private byte[] MakeFile(string name, int size)
    {
        var content = RandomNumberGenerator.GetBytes(size);
        File.WriteAllBytes(Local(name), content);
        return content;
    }

    private static void Succeeded(ExternalProcess.Result result) => Assert.True(result.ExitCode == 0, result.ToString());

    [Theory]
    [InlineData("passive")]
    [InlineData("active")]
    public async Task PythonFtplib_FullSession(string mode)
    {
        var result = await _gateway.RunFtplibScenarioAsync(mode, "plain");
        Succeeded(result);
        Assert.Equal("OK", result.StandardOutput.Trim());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Curl_UploadDownloadListRenameDelete(bool active)
    {
        var curl = ExternalProcess.Require("curl");
        string[] mode = active ? ["--ftp-port", "127.0.0.1"] : ["--ftp-pasv"];
        var content = MakeFile("camera.jpg", 5 * 1024 * 1024 + 3);

        Succeeded(await ExternalProcess.RunAsync(curl, [.. mode, "-sS", "--ftp-create-dirs", "-T", Local("camera.jpg"), $"{_gateway.UserUrl}/cam01/2026/camera.jpg"]));
        Assert.Equal(content, File.ReadAllBytes(Stored("cam01/2026/camera.jpg")));

        Succeeded(await ExternalProcess.RunAsync(curl, [.. mode, "-sS", "-o", Local("back.jpg"), $"{_gateway.UserUrl}/cam01/2026/camera.jpg"]));
        Assert.Equal(content, File.ReadAllBytes(Local("back.jpg")));

        var list = await ExternalProcess.RunAsync(curl, [.. mode, "-sS", $"{_gateway.UserUrl}/cam01/2026/"]);
        Succeeded(list);
        Assert.Matches(@"^-rw-r--r-- 1 ftp ftp +5242883 \w{3} [ \d]\d \d\d:\d\d camera\.jpg\r?\n$", list.StandardOutput);

        var names = await ExternalProcess.RunAsync(curl, [.. mode, "-sS", "--list-only", $"{_gateway.UserUrl}/cam01/"]);
        Assert.Equal("2026", names.StandardOutput.Trim());

        Succeeded(await ExternalProcess.RunAsync(curl, [.. mode, "-sS", "-Q", "-RNFR camera.jpg", "-Q", "-RNTO final.jpg", "--list-only", $"{_gateway.UserUrl}/cam01/2026/"]));
        Assert.True(File.Exists(Stored("cam01/2026/final.jpg")));
        Succeeded(await ExternalProcess.RunAsync(curl, [.. mode, "-sS", "-Q", "-DELE final.jpg", "--list-only", $"{_gateway.UserUrl}/cam01/2026/"]));
        Assert.False(File.Exists(Stored("cam01/2026/final.jpg")));
    }

    [Fact]
    public async Task Curl_ResumesAndAppends()
    {
        var curl = ExternalProcess.Require("curl");
        var content = MakeFile("full.bin", 2_000_000);
        File.WriteAllBytes(Stored("full.bin"), content[..700_000]);

        // Upload resume: curl asks SIZE, then REST+STOR (or APPE) with the rest.
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-C", "-", "-T", Local("full.bin"), $"{_gateway.UserUrl}/full.bin"]));
        Assert.Equal(content, File.ReadAllBytes(Stored("full.bin")));

        // Download resume: REST + RETR.
        File.WriteAllBytes(Local("partial.bin"), content[..1_234_567]);
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-C", "-", "-o", Local("partial.bin"), $"{_gateway.UserUrl}/full.bin"]));
        Assert.Equal(content, File.ReadAllBytes(Local("partial.bin")));

        File.WriteAllText(Local("line.txt"), "more\n");
        File.WriteAllText(Stored("log.txt"), "first\n");
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "--append", "-T", Local("line.txt"), $"{_gateway.UserUrl}/log.txt"]));
        Assert.Equal("first\nmore\n", File.ReadAllText(Stored("log.txt")));
    }

    [Fact]
    public async Task Curl_WrongPassword_Fails_AndNothingIsStored()
    {
        MakeFile("x.bin", 10);
        var result = await ExternalProcess.RunAsync(ExternalProcess.Require("curl"), ["-sS", "-T", Local("x.bin"), $"ftp://{Gateway.User}:wrong@127.0.0.1:{_gateway.Port}/x.bin"]);
        Assert.Equal(67, result.ExitCode); // CURLE_LOGIN_DENIED: the server said 530
        Assert.False(File.Exists(Stored("x.bin")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Lftp_MirrorsATreeUpAndDown(bool passive)
    {
        var lftp = ExternalProcess.Require("lftp");
        Directory.CreateDirectory(Local("tree/sub/deeper"));
        var a = MakeFile("tree/a.bin", 123_457);
        var b = MakeFile("tree/sub/b.bin", 1);
        var c = MakeFile("tree/sub/deeper/c.bin", 0);
        var script = string.Join("; ",
            $"set ftp:passive-mode {(passive ? "on" : "off")}",
            "set net:max-retries 1",
            "set net:timeout 20",
            "set ftp:ssl-allow no",
            $"open -u {Gateway.User},{Gateway.Password} -p {_gateway.Port} 127.0.0.1",
            $"mirror -R {Local("tree")} /up",
            $"mirror /up {Local("down")}",
            "cls -1 /up/sub",
            "mv /up/a.bin /up/a-renamed.bin",
            "rm /up/sub/b.bin",
            "quit");
        var result = await ExternalProcess.RunAsync(lftp, ["-c", script]);
        Succeeded(result);
        Assert.Equal(a, File.ReadAllBytes(Local("down/a.bin")));
        Assert.Equal(b, File.ReadAllBytes(Local("down/sub/b.bin")));
        Assert.Equal(c, File.ReadAllBytes(Local("down/sub/deeper/c.bin")));
        Assert.Contains("deeper", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(a, File.ReadAllBytes(Stored("up/a-renamed.bin")));
        Assert.False(File.Exists(Stored("up/sub/b.bin")));
    }

    [Fact]
    public async Task Busybox_FtpputAndFtpget()
    {
        var busybox = ExternalProcess.Require("busybox");
        var content = MakeFile("plc-export.csv", 777_777);
        var port = _gateway.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Succeeded(await ExternalProcess.RunAsync(busybox, ["ftpput", "-u", Gateway.User, "-p", Gateway.Password, "-P", port, "127.0.0.1", "plc-export.csv", Local("plc-export.csv")]));
        Assert.Equal(content, File.ReadAllBytes(Stored("plc-export.csv")));
        Succeeded(await ExternalProcess.RunAsync(busybox, ["ftpget", "-u", Gateway.User, "-p", Gateway.Password, "-P", port, "127.0.0.1", Local("fetched.csv"), "plc-export.csv"]));
        Assert.Equal(content, File.ReadAllBytes(Local("fetched.csv")));
    }

    [Fact]
    public async Task Curl_LargeFile_RoundTripsByteForByte()
    {
        var curl = ExternalProcess.Require("curl");
        var content = MakeFile("large.bin", 256 * 1024 * 1024);
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-T", Local("large.bin"), $"{_gateway.UserUrl}/large.bin"]));
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(Stored("large.bin"))));
        Succeeded(await ExternalProcess.RunAsync(curl, ["-sS", "-o", Local("large-back.bin"), $"{_gateway.UserUrl}/large.bin"]));
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(Local("large-back.bin"))));
    }

    [Fact]
    public async Task Curl_AsciiMode_ConvertsLineEndings()
    {
        var curl = ExternalProcess.Require("curl");
        File.WriteAllText(Stored("report.txt"), "a\nb\n");
        var result = await ExternalProcess.RunAsync(curl, ["-sS", "--use-ascii", $"{_gateway.UserUrl}/report.txt"]);
        Succeeded(result);
        // curl converts CRLF back to LF on its side only on some platforms; the wire carried CRLF.
        Assert.Contains("a", result.StandardOutput, StringComparison.Ordinal);
        var raw = await ExternalProcess.RunAsync(curl, ["-sS", "-B", $"{_gateway.UserUrl}/report.txt", "--trace-ascii", "-"]);
        Assert.Contains("TYPE A", raw.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public Task Upload_IntoAMissingDirectory_IsRefusedBefore150() => UploadRefusals.IntoAMissingDirectoryAsync(_gateway, _work);

    [Fact]
    public Task ANameTooLongForTheStore_IsTheClientsError() => UploadRefusals.TooLongForTheStoreAsync(_gateway, new string('k', 300));

    [Theory]
    [InlineData("tnftp")]
    [InlineData("inetutils-ftp")]
    public async Task ClassicClients_MgetOfAPath_RetrieveWhatNlstPrinted(string client)
    {
        Directory.CreateDirectory(Stored("mp"));
        File.WriteAllText(Stored("mp/one.txt"), "first");
        File.WriteAllText(Stored("mp/two.txt"), "second");
        Directory.CreateDirectory(Local("got/mp")); // the clients save "mp/one.txt" as that local path
        var script = string.Join('\n', $"user {Gateway.User} {Gateway.Password}", "binary", "prompt", "passive", $"lcd {Local("got")}", "mget mp/one.txt", "mget mp/t*", "quit", string.Empty);
        var result = await ExternalProcess.RunAsync(ExternalProcess.Require(client), ["-n", "-v", "127.0.0.1", _gateway.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], standardInput: script);
        Assert.True(File.Exists(Path.Combine(Local("got"), "mp", "one.txt")), result.ToString());
        Assert.Equal("first", File.ReadAllText(Path.Combine(Local("got"), "mp", "one.txt")), ignoreLineEndingDifferences: true);
        Assert.Equal("second", File.ReadAllText(Path.Combine(Local("got"), "mp", "two.txt")), ignoreLineEndingDifferences: true);
        Assert.DoesNotContain("550", result.StandardOutput, StringComparison.Ordinal);
    }
}

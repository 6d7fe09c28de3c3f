using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using FtpGateway.Storage;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests;

/// <summary>Data transfers over real sockets, in passive and active mode, and how they fail.</summary>
public sealed class TransferTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Disk(string path) => _server.Root.File(path);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1_048_583)]
    public async Task StorThenRetr_IsByteExact_WithoutAnyTypeCommand(int size)
    {
        var content = RandomNumberGenerator.GetBytes(size);
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        Assert.Equal(226, (await c.UploadAsync("STOR data.bin", content)).Code);
        Assert.Equal(content, File.ReadAllBytes(Disk("data.bin")));
        var (data, final) = await c.DownloadAsync("RETR data.bin");
        Assert.Equal(226, final.Code);
        Assert.Equal(content, data);
    }

    [Fact]
    public async Task Pasv_AdvertisesTheControlAddress_AndCarriesData()
    {
        File.WriteAllText(Disk("p.txt"), "via pasv");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        using var data = await c.OpenPasvAsync();
        await c.ExpectAsync("RETR p.txt", 150);
        Assert.Equal("via pasv", Encoding.UTF8.GetString(await RawFtpClient.ReadToEndAsync(data)));
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
    }

    [Fact]
    public async Task Pasv_AdvertisesThePublicAddress_WhenConfigured()
    {
        await using var server = await TestServer.StartAsync(o => o.PublicAddress = "203.0.113.7");
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        Assert.StartsWith("227 Entering Passive Mode (203,0,113,7,", (await c.SendAsync("PASV")).Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ActiveMode_PortAndEprt_CarryDataBothWays(bool extended)
    {
        var content = RandomNumberGenerator.GetBytes(300_000);
        await using var c = await RawFtpClient.LoginAsync(_server.Port);

        async Task<Socket> Accept(Func<int, string> command)
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            await c.ExpectAsync(command(port), 200);
            return listener;
        }

        string Command(int port) => extended ? $"EPRT |1|127.0.0.1|{port}|" : $"PORT 127,0,0,1,{port >> 8},{port & 255}";

        using (var listener = await Accept(Command))
        {
            await c.ExpectAsync("STOR active.bin", 150);
            using var data = await listener.AcceptAsync();
            await data.SendAsync(content);
            data.Shutdown(SocketShutdown.Send);
            data.Close();
            Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        }

        Assert.Equal(content, File.ReadAllBytes(Disk("active.bin")));
        using (var listener = await Accept(Command))
        {
            await c.ExpectAsync("RETR active.bin", 150);
            using var data = await listener.AcceptAsync();
            Assert.Equal(content, await RawFtpClient.ReadToEndAsync(data));
            Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        }
    }

    [Theory]
    [InlineData("PORT 10,0,0,1,200,10")]            // FTP bounce to another host (RFC 2577)
    [InlineData("PORT 127,0,0,1,0,25")]             // privileged port
    [InlineData("EPRT |1|192.0.2.1|5000|")]
    [InlineData("EPRT |1|127.0.0.1|21|")]
    [InlineData("PORT 1,2,3")]
    [InlineData("PORT 127,0,0,1,300,1")]
    [InlineData("EPRT |1|not-an-ip|5000|")]
    public async Task ActiveMode_RefusesBounceTargetsAndBadSyntax_With501(string command)
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync(command, 501);
        await c.ExpectAsync("RETR x", 550);
    }

    [Fact]
    public async Task Eprt_WithAnUnknownProtocol_Is522_AndEpsvAllLocksOutTheOthers()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("EPRT |3|x|5000|", 522);
        await c.ExpectAsync("EPSV 2", 522);
        await c.ExpectAsync("EPSV ALL", 200);
        await c.ExpectAsync("PASV", 503);
        await c.ExpectAsync("PORT 127,0,0,1,200,10", 503);
        await c.ExpectAsync("EPSV", 229);
    }

    [Fact]
    public async Task ActiveMode_CanBeDisabled_With502()
    {
        await using var server = await TestServer.StartAsync(o => o.AllowActiveMode = false);
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        await c.ExpectAsync("PORT 127,0,0,1,200,10", 502);
        await c.ExpectAsync("EPRT |1|127.0.0.1|5000|", 502);
        var feat = await c.ExpectAsync("FEAT", 211);
        Assert.DoesNotContain(" EPRT", feat.Lines); // FEAT lists only what works (RFC 2389)
        Assert.Contains(" EPSV", feat.Lines);
    }

    [Fact]
    public async Task TransferWithoutADataChannel_Is425()
    {
        File.WriteAllText(Disk("f"), "x");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("RETR f", 425);
        await c.ExpectAsync("STOR g", 425);
        await c.ExpectAsync("LIST", 425);
    }

    [Fact]
    public async Task PassivePorts_ComeFromTheConfiguredRange_AndExhaustionIs425()
    {
        var start = FreePorts.Range(2);
        await using var server = await TestServer.StartAsync(o => o.PassivePortRange = $"{start}-{start + 1}");
        await using var a = await RawFtpClient.LoginAsync(server.Port);
        await using var b = await RawFtpClient.LoginAsync(server.Port);
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        var ports = new[] { await EpsvPort(a), await EpsvPort(b) };
        Assert.Equal([start, start + 1], ports.Order());
        await c.ExpectAsync("EPSV", 425);
        await a.ExpectAsync("ABOR", 226); // releases a's port
        Assert.InRange(await EpsvPort(c), start, start + 1);
    }

    [Fact]
    public async Task PassiveDataConnections_FromAnotherAddress_AreRefused()
    {
        File.WriteAllText(Disk("secret.bin"), "for the client only");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        var port = await EpsvPort(c);

        // An intruder on another address (127.0.0.2 is loopback too) connects first.
        using var intruder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        intruder.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await intruder.ConnectAsync(IPAddress.Loopback, port);
        await c.ExpectAsync("RETR secret.bin", 150);
        using var legit = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await legit.ConnectAsync(IPAddress.Loopback, port);
        Assert.Equal("for the client only", Encoding.UTF8.GetString(await RawFtpClient.ReadToEndAsync(legit)));
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Empty(await RawFtpClient.ReadToEndAsync(intruder));
    }

    [Fact]
    public async Task TypeA_ConvertsLineEndingsBothWays_TypeIDoesNot()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("TYPE A", 200);
        Assert.Equal(226, (await c.UploadAsync("STOR text.txt", "line1\r\nline2\r\n"u8.ToArray())).Code);
        Assert.Equal("line1\nline2\n", File.ReadAllText(Disk("text.txt")));
        Assert.Equal("line1\r\nline2\r\n", Encoding.ASCII.GetString((await c.DownloadAsync("RETR text.txt")).Data));
        await c.ExpectAsync("TYPE I", 200);
        Assert.Equal("line1\nline2\n", Encoding.ASCII.GetString((await c.DownloadAsync("RETR text.txt")).Data));
        Assert.Equal(226, (await c.UploadAsync("STOR bin.txt", "a\r\nb"u8.ToArray())).Code);
        Assert.Equal("a\r\nb", File.ReadAllText(Disk("bin.txt")));
    }

    [Fact]
    public async Task RestThenRetr_ResumesAtTheOffset_AndBeyondTheEndIs554()
    {
        var content = RandomNumberGenerator.GetBytes(100_000);
        File.WriteAllBytes(Disk("big.bin"), content);
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("REST 40000", 350);
        var (data, final) = await c.DownloadAsync("RETR big.bin");
        Assert.Equal(226, final.Code);
        Assert.Equal(content[40000..], data);
        await c.ExpectAsync("REST 100001", 350);
        await c.ExpectAsync("EPSV", 229);
        await c.ExpectAsync("RETR big.bin", 554);

        // REST applies to one transfer only.
        Assert.Equal(content, (await c.DownloadAsync("RETR big.bin")).Data);
    }

    [Fact]
    public async Task ARestOffset_IsConsumedByAListing_SoTheNextRetrStartsAtZero()
    {
        // Regression: REST 5, LIST, RETR started the RETR at 5.
        File.WriteAllText(Disk("r.txt"), "0123456789");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("REST 5", 350);
        Assert.Equal(226, (await c.DownloadAsync("LIST")).Final.Code);
        Assert.Equal("0123456789", Encoding.ASCII.GetString((await c.DownloadAsync("RETR r.txt")).Data));
    }

    [Fact]
    public async Task TypeA_AnnouncesNoSize_BecauseTheBytesSentDifferFromTheStoredSize()
    {
        // Regression: the 150 said 25 bytes while 28 were sent after LF became CRLF.
        File.WriteAllText(Disk("lines.txt"), "line one\nline two\nline 3\n");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("TYPE A", 200);
        using var data = await c.OpenPassiveAsync();
        var opening = await c.ExpectAsync("RETR lines.txt", 150);
        Assert.DoesNotContain("bytes", opening.Text, StringComparison.Ordinal);
        Assert.Equal(28, (await RawFtpClient.ReadToEndAsync(data)).Length);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        await c.ExpectAsync("TYPE I", 200);
        using var binary = await c.OpenPassiveAsync();
        Assert.Contains("(25 bytes)", (await c.ExpectAsync("RETR lines.txt", 150)).Text, StringComparison.Ordinal);
        Assert.Equal(25, (await RawFtpClient.ReadToEndAsync(binary)).Length);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
    }

    [Fact]
    public async Task RestZero_InTypeA_IsAccepted()
    {
        File.WriteAllText(Disk("log.txt"), "a\n");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("TYPE A", 200);
        await c.ExpectAsync("REST 0", 350);
        Assert.Equal("a\r\n", Encoding.ASCII.GetString((await c.DownloadAsync("RETR log.txt")).Data));
    }

    [Fact]
    public async Task RestThenStor_ResumesAnUpload_AndAppeAppends()
    {
        File.WriteAllText(Disk("part.txt"), "0123456789");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("REST 6", 350);
        Assert.Equal(226, (await c.UploadAsync("STOR part.txt", "XYZ"u8.ToArray())).Code);
        Assert.Equal("012345XYZ", File.ReadAllText(Disk("part.txt")));
        Assert.Equal(226, (await c.UploadAsync("APPE part.txt", "+more"u8.ToArray())).Code);
        Assert.Equal("012345XYZ+more", File.ReadAllText(Disk("part.txt")));
        Assert.Equal(226, (await c.UploadAsync("APPE fresh.txt", "new"u8.ToArray())).Code);
        Assert.Equal("new", File.ReadAllText(Disk("fresh.txt")));
        await c.ExpectAsync("REST 999", 350);
        await c.ExpectAsync("EPSV", 229);
        await c.ExpectAsync("STOR part.txt", 554);
    }

    [Fact]
    public async Task Stou_StoresUnderAFreshName_AndSaysWhich()
    {
        File.WriteAllText(Disk("scan"), "existing");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        using var data = await c.OpenPassiveAsync();
        var opening = await c.ExpectAsync("STOU scan", 150);
        Assert.StartsWith("150 FILE: scan.", opening.Text, StringComparison.Ordinal);
        var name = opening.Text["150 FILE: ".Length..];
        await data.SendAsync("unique"u8.ToArray());
        data.Close();
        var final = await c.ReadReplyAsync();
        Assert.Equal(226, final.Code);
        Assert.Contains(name, final.Text, StringComparison.Ordinal);
        Assert.Equal("unique", File.ReadAllText(Disk(name)));
        Assert.Equal("existing", File.ReadAllText(Disk("scan")));
    }

    [Fact]
    public async Task RnfrRnto_RenamesFilesAndDirectories()
    {
        Directory.CreateDirectory(Disk("dir/sub"));
        File.WriteAllText(Disk("dir/sub/f.txt"), "payload");
        File.WriteAllText(Disk("upload.filepart"), "complete");
        File.WriteAllText(Disk("final.txt"), "stale");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("RNFR upload.filepart", 350);
        await c.ExpectAsync("RNTO final.txt", 250);
        Assert.Equal("complete", File.ReadAllText(Disk("final.txt")));
        Assert.False(File.Exists(Disk("upload.filepart")));
        await c.ExpectAsync("RNFR dir", 350);
        await c.ExpectAsync("RNTO moved", 250);
        Assert.Equal("payload", File.ReadAllText(Disk("moved/sub/f.txt")));
        await c.ExpectAsync("RNFR ghost", 550);
        await c.ExpectAsync("RNFR moved", 350);
        await c.ExpectAsync("NOOP", 200);
        await c.ExpectAsync("RNTO elsewhere", 503); // RNTO must follow RNFR at once
        await c.ExpectAsync("RNFR moved", 350);
        await c.ExpectAsync("RNTO moved/sub/inside", 553); // not into itself
    }

    [Fact]
    public async Task Dele_RemovesAFile_AndRefusesMissingFilesAndDirectories()
    {
        File.WriteAllText(Disk("gone.txt"), "x");
        Directory.CreateDirectory(Disk("d"));
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("DELE gone.txt", 250);
        Assert.False(File.Exists(Disk("gone.txt")));
        await c.ExpectAsync("DELE gone.txt", 550);
        await c.ExpectAsync("DELE d", 550);
    }

    [Fact]
    public async Task Listings_LsFormat_BareNames_AndMachineFacts()
    {
        Directory.CreateDirectory(Disk("folder"));
        File.WriteAllBytes(Disk("a b.txt"), new byte[1234]);
        File.SetLastWriteTimeUtc(Disk("a b.txt"), new DateTime(2020, 5, 17, 10, 11, 12, DateTimeKind.Utc));
        await using var c = await RawFtpClient.LoginAsync(_server.Port);

        var list = (await c.ListAsync("LIST")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(2, list.Length);
        Assert.Equal("-rw-r--r-- 1 ftp ftp          1234 May 17  2020 a b.txt", list[0]);
        Assert.Matches(@"^drwxr-xr-x 1 ftp ftp +0 \w{3} [ \d]\d (\d\d:\d\d| \d{4}) folder$", list[1]);
        Assert.Equal(list, (await c.ListAsync("LIST -la")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        Assert.Equal(list[0], (await c.ListAsync("LIST a b.txt")).TrimEnd());

        Assert.Equal(["a b.txt", "folder"], (await c.ListAsync("NLST")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

        var mlsd = (await c.ListAsync("MLSD")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal("type=dir;", mlsd[0][..9]);
        Assert.EndsWith("; folder", mlsd[0], StringComparison.Ordinal);
        Assert.Matches(@"^type=file;size=1234;modify=20200517101112;perm=adfrw;unique=[0-9a-f.]+; a b\.txt$", mlsd[1]);

        var mlst = await c.ExpectAsync("MLST a b.txt", 250);
        Assert.Matches(@"^ type=file;size=1234;modify=20200517101112;perm=adfrw;unique=[0-9a-f.]+; /a b\.txt$", mlst.Lines[1]);
        await c.ExpectAsync("OPTS MLST size;", 200);
        Assert.Equal(" size=1234; /a b.txt", (await c.ExpectAsync("MLST a b.txt", 250)).Lines[1]);

        await c.ExpectAsync("EPSV", 229);
        await c.ExpectAsync("MLSD a b.txt", 501);
        await c.ExpectAsync("LIST nothing-here", 550);
        await c.ExpectAsync("MLST nothing-here", 550);
    }

    [Fact]
    public async Task NlstAndList_ExpandAPatternInTheLastComponent_AsMgetSendsIt()
    {
        Directory.CreateDirectory(Disk("sub"));
        foreach (var name in new[] { "a.txt", "b.txt", "notes.md", "upload.csv", "sub/c.log", "sub/d.log", "sub/e.txt", "lit*eral" })
        {
            File.WriteAllText(Disk(name), name);
        }

        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        async Task<string[]> Lines(string command) => (await c.ListAsync(command)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["a.txt", "b.txt"], await Lines("NLST *.txt"));
        Assert.Equal(["sub/c.log", "sub/d.log"], await Lines("NLST sub/*.log"));
        Assert.Equal(["a.txt", "b.txt", "lit*eral", "notes.md"], await Lines("NLST [a-n]*"));
        var list = await Lines("LIST u*");
        Assert.Matches(@"^-rw-r--r-- 1 ftp ftp +10 \w{3} [ \d]\d \d\d:\d\d upload\.csv$", Assert.Single(list));
        Assert.Equal(["lit*eral"], await Lines("NLST lit*eral")); // a name that exists is taken literally
        Assert.Empty(await Lines("NLST *.nothing"));

        // A pattern never reaches beyond one directory: not in a directory part, not in MLSD (RFC 3659 §7.1).
        Assert.Equal(550, (await c.DownloadAsync("NLST */c.log")).Final.Code);
        Assert.Equal(550, (await c.DownloadAsync("MLSD *.txt")).Final.Code);

        // What Windows ftp.exe and BSD ftp do for "mget *.txt": NLST, then RETR each name.
        foreach (var name in await Lines("NLST *.txt"))
        {
            Assert.Equal(name, System.Text.Encoding.UTF8.GetString((await c.DownloadAsync("RETR " + name)).Data));
        }
    }

    [Fact]
    public async Task Listing_OfAnEmptyDirectory_IsEmptyAnd226()
    {
        Directory.CreateDirectory(Disk("empty"));
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        var (data, final) = await c.DownloadAsync("LIST empty");
        Assert.Empty(data);
        Assert.Equal(226, final.Code);
    }

    [Fact]
    public async Task SizeMdtmMfmt_ReportAndSetFileFacts()
    {
        File.WriteAllBytes(Disk("f.bin"), new byte[777]);
        Directory.CreateDirectory(Disk("d"));
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        Assert.Equal("213 777", (await c.SendAsync("SIZE f.bin")).Text);
        await c.ExpectAsync("SIZE d", 550);
        await c.ExpectAsync("SIZE none", 550);
        Assert.Equal("213 Modify=20010203040506; /f.bin", (await c.SendAsync("MFMT 20010203040506 f.bin")).Text);
        Assert.Equal("213 20010203040506", (await c.SendAsync("MDTM f.bin")).Text);
        Assert.Equal(new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Disk("f.bin")));
        await c.ExpectAsync("MFMT 20010203040506 none", 550);
    }

    [Fact]
    public async Task Hashes_MatchTheContent()
    {
        var content = RandomNumberGenerator.GetBytes(50_000);
        File.WriteAllBytes(Disk("h.bin"), content);
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        Assert.Equal($"213 SHA-256 0-50000 {Convert.ToHexStringLower(SHA256.HashData(content))} h.bin", (await c.SendAsync("HASH h.bin")).Text);
        await c.ExpectAsync("OPTS HASH MD5", 200);
        Assert.Contains(Convert.ToHexStringLower(MD5.HashData(content)), (await c.ExpectAsync("HASH h.bin", 213)).Text, StringComparison.Ordinal);
        await c.ExpectAsync("OPTS HASH WHIRLPOOL", 501);
        Assert.Equal("250 " + Convert.ToHexString(MD5.HashData(content)), (await c.SendAsync("XMD5 h.bin")).Text);
        Assert.Equal("250 " + Convert.ToHexString(SHA1.HashData(content)), (await c.SendAsync("XSHA1 h.bin")).Text);
        Assert.Equal("250 " + Convert.ToHexString(SHA256.HashData(content)), (await c.SendAsync("XSHA256 h.bin")).Text);
        Assert.Equal("250 " + Crc32(content).ToString("X8", CultureInfo.InvariantCulture), (await c.SendAsync("XCRC h.bin")).Text);
        await c.ExpectAsync("XCRC nothing", 550);
    }

    [Fact]
    public async Task ChecksumCommands_TakeQuotedNames_AndAByteRange()
    {
        // Regression: XCRC "file.bin" 0 1000 and XMD5 file.bin 0 1000 answered 550 No such file.
        var content = RandomNumberGenerator.GetBytes(5000);
        File.WriteAllBytes(Disk("file.bin"), content);
        File.WriteAllBytes(Disk("my file.bin"), content);
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        var first = content.AsSpan(0, 1000).ToArray();
        Assert.Equal("250 " + Crc32(first).ToString("X8", CultureInfo.InvariantCulture), (await c.SendAsync("XCRC \"file.bin\" 0 1000")).Text);
        Assert.Equal("250 " + Convert.ToHexString(MD5.HashData(first)), (await c.SendAsync("XMD5 file.bin 0 1000")).Text);
        Assert.Equal("250 " + Convert.ToHexString(SHA1.HashData(content.AsSpan(1000))), (await c.SendAsync("XSHA1 my file.bin 1000")).Text);
        Assert.Equal("250 " + Convert.ToHexString(SHA256.HashData(content)), (await c.SendAsync("XSHA256 \"my file.bin\"")).Text);
        Assert.Equal("250 " + Convert.ToHexString(SHA256.HashData(content)), (await c.SendAsync("XSHA256 file.bin 0 999999")).Text); // clamped
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(content)), (await c.ExpectAsync("HASH \"my file.bin\"", 213)).Text, StringComparison.Ordinal);
        await c.ExpectAsync("XMD5 file.bin 1000 10", 501);
        await c.ExpectAsync("XMD5 file.bin 6000", 501); // a range that starts beyond the end
        await c.ExpectAsync("XMD5 \"unterminated", 550);
    }

    [Fact]
    public async Task Utf8Names_RoundTripThroughStorListAndRetr()
    {
        const string name = "Überwachung 監視 №1.jpg";
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("OPTS UTF8 ON", 200);
        Assert.Equal(226, (await c.UploadAsync("STOR " + name, "img"u8.ToArray())).Code);
        Assert.True(File.Exists(Disk(name)));
        Assert.Equal(name + "\r\n", await c.ListAsync("NLST"));
        Assert.Equal("img", Encoding.UTF8.GetString((await c.DownloadAsync("RETR " + name)).Data));
    }

    [Fact]
    public async Task Abor_DuringADownload_Answers426Then226_AndTheSessionGoesOn()
    {
        File.WriteAllBytes(Disk("huge.bin"), new byte[64 * 1024 * 1024]);
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("RETR huge.bin", 150);
        var buffer = new byte[1024];
        await data.ReceiveAsync(buffer); // the transfer is running; we stop reading so it stalls
        await c.SendRawAsync([255, 244, 255, 242, .. "ABOR\r\n"u8]);
        Assert.Equal(426, (await c.ReadReplyAsync()).Code);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        await c.ExpectAsync("PWD", 257);
    }

    [Fact]
    public async Task Abor_WithNoTransfer_Is225()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("ABOR", 225);
    }

    [Fact]
    public async Task StatAndNoop_AreAnsweredDuringATransfer()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR slow.bin", 150);
        await data.SendAsync(new byte[5000]);
        await c.ExpectAsync("NOOP", 200);
        var stat = await c.ExpectAsync("STAT", 211);
        Assert.Contains(stat.Lines, l => l.Contains("Transfer in progress: STOR /slow.bin", StringComparison.Ordinal));
        data.Close();
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Equal(5000, new FileInfo(Disk("slow.bin")).Length);
    }

    [Fact]
    public async Task Stat_DuringAJailedUsersTransfer_ShowsTheUsersPath_NotTheStoragePath()
    {
        // Regression: the status line printed the storage path (/home/jailed/slow.bin), revealing the jail.
        await using var c = await RawFtpClient.LoginAsync(_server.Port, "jailed", "jail-pw");
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR slow.bin", 150);
        await data.SendAsync(new byte[5000]);
        var stat = await c.ExpectAsync("STAT", 211);
        Assert.Contains(stat.Lines, l => l.Contains("Transfer in progress: STOR /slow.bin,", StringComparison.Ordinal));
        Assert.DoesNotContain("home", stat.Text, StringComparison.Ordinal);
        data.Close();
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Equal(5000, new FileInfo(Disk("home/jailed/slow.bin")).Length);
    }

    [Fact]
    public async Task Abor_DuringAnUpload_CommitsNothing_AndKeepsTheOldFile()
    {
        File.WriteAllText(Disk("keep.txt"), "old version");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR keep.txt", 150);
        await data.SendAsync(new byte[100_000]);
        await c.SendRawAsync("ABOR\r\n"u8.ToArray());
        Assert.Equal(426, (await c.ReadReplyAsync()).Code);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Equal("old version", File.ReadAllText(Disk("keep.txt")));
        Assert.Single(Directory.GetFiles(_server.Root.Path));
    }

    /// <summary>
    /// ^C in a classic client during an upload (RFC 959 §4.1.3): Telnet IP and Synch, then ABOR. BSD ftp (tnftp) sends
    /// IAC IP IAC with MSG_OOB, then DM ABOR; Python's ftplib sends IAC IP IAC, then DM with MSG_OOB, then ABOR;
    /// others send it all in band.
    /// </summary>
    [Theory]
    [InlineData("bsd")]
    [InlineData("ftplib")]
    [InlineData("inband")]
    public async Task TheClassicInterrupt_AbortsAnUpload_AndItsRepliesComeInStep(string style)
    {
        File.WriteAllText(Disk("keep.txt"), "old version");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR keep.txt", 150);
        await data.SendAsync(new byte[100_000]);
        byte[] interrupt = [255, 244, 255];
        switch (style)
        {
            case "bsd":
                c.Socket.Send(interrupt, SocketFlags.OutOfBand); // the last byte (IAC) is the urgent one
                c.Socket.Send([242, .. "ABOR\r\n"u8]);
                break;
            case "ftplib":
                c.Socket.Send(interrupt);
                c.Socket.Send([242], SocketFlags.OutOfBand);
                c.Socket.Send("ABOR\r\n"u8);
                break;
            default:
                c.Socket.Send([.. interrupt, 242, .. "ABOR\r\n"u8]);
                break;
        }

        Assert.Equal(426, (await c.ReadReplyAsync()).Code);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        await data.SendAsync(new byte[1000]).ContinueWith(_ => { }, TaskScheduler.Default); // a client that sends on: nothing of it lands
        await c.ExpectAsync("NOOP", 200);
        Assert.Equal("old version", File.ReadAllText(Disk("keep.txt")));
        Assert.Single(Directory.GetFiles(_server.Root.Path));
    }

    [Fact]
    public async Task AResetDataConnection_DuringAnUpload_Is426_AndKeepsTheOldFile()
    {
        File.WriteAllText(Disk("reset.txt"), "old version");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR reset.txt", 150);
        await data.SendAsync(new byte[100_000]);
        data.LingerState = new LingerOption(true, 0);
        data.Close(); // RST, not FIN
        Assert.Equal(426, (await c.ReadReplyAsync()).Code);
        Assert.Equal("old version", File.ReadAllText(Disk("reset.txt")));
        Assert.Single(Directory.GetFiles(_server.Root.Path));
    }

    [Fact]
    public async Task AClientThatDies_ClosingBothConnections_CommitsNothing()
    {
        var faulty = (FaultyStorage?)null;
        await using var server = await TestServer.StartAsync(wrap: s => faulty = new FaultyStorage(s) { HoldCommit = new TaskCompletionSource() });
        File.WriteAllText(server.Root.File("cam.jpg"), "yesterday");
        var c = await RawFtpClient.LoginAsync(server.Port);
        var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR cam.jpg", 150);
        await data.SendAsync(new byte[10_000]);
        data.Shutdown(SocketShutdown.Send); // a clean FIN: looks finished ...
        await faulty!.DataReceived.Task;
        await c.DisposeAsync();              // ... but the control connection dies with it
        await Poll.UntilAsync(() => faulty.CommitAbandoned.Task.IsCompleted, "the session to give up the upload");
        faulty.HoldCommit!.SetResult();
        await Poll.UntilAsync(() => server.ActiveSessions == 0, "the session to end");
        Assert.Equal("yesterday", File.ReadAllText(server.Root.File("cam.jpg")));
        Assert.Single(Directory.GetFiles(server.Root.Path));
        data.Dispose();
    }

    [Theory]
    [InlineData(StorageErrorKind.Unavailable, 451)]
    [InlineData(StorageErrorKind.InsufficientStorage, 552)]
    public async Task AFailingStore_IsNeverAnswered226_AndLeaksNoDetail(StorageErrorKind kind, int code)
    {
        await using var server = await TestServer.StartAsync(wrap: s => new FaultyStorage(s) { FailUploads = (20_000, kind) });
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        var reply = await c.UploadAsync("STOR doomed.bin", new byte[50_000]);
        Assert.Equal(code, reply.Code);
        Assert.DoesNotContain("secret-bucket", reply.Text, StringComparison.Ordinal);
        Assert.False(File.Exists(server.Root.File("doomed.bin")));
        await c.ExpectAsync("NOOP", 200);
    }

    [Fact]
    public async Task APatternBeyondTheLimits_Is501_WithoutAListing()
    {
        // The report's attack: one class of 4,000 characters cost 2 s of CPU per listing of 10,000 names.
        var storage = (FaultyStorage?)null;
        await using var server = await TestServer.StartAsync(wrap: s => storage = new FaultyStorage(s));
        Directory.CreateDirectory(server.Root.File("photos"));
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("NLST photos/*[!" + new string('x', 4000) + "]", 501);
        await c.ExpectAsync("LIST " + string.Concat(Enumerable.Repeat("?", 64)), 501);
        Assert.Equal(0, storage!.Listings); // refused before anything was listed
    }

    [Fact]
    public async Task Nlst_OfAPath_AnswersNamesAsTheClientGaveThePath()
    {
        Directory.CreateDirectory(Disk("mp"));
        File.WriteAllText(Disk("mp/one.txt"), "1");
        File.WriteAllText(Disk("mp/two.txt"), "2");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        async Task<string[]> Lines(string command) =>
            [.. (await c.ListAsync(command)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];

        Assert.Equal(["mp/one.txt"], await Lines("NLST mp/one.txt"));
        Assert.Equal(["/mp/one.txt"], await Lines("NLST /mp/one.txt"));
        Assert.Equal(["one.txt", "two.txt"], await Lines("NLST mp"));   // a directory's names, as ls shows them
        Assert.Equal(["one.txt", "two.txt"], await Lines("NLST mp/"));
        Assert.Equal(["mp/one.txt"], await Lines("NLST mp/one*"));
        await c.ExpectAsync("CWD mp", 250);
        Assert.Equal(["one.txt", "two.txt"], await Lines("NLST"));
        Assert.Equal(["one.txt"], await Lines("NLST one.txt"));

        // What BSD ftp, inetutils and ftp.exe do for "mget mp/one.txt": NLST, then RETR each name as printed.
        await c.ExpectAsync("CWD /", 250);
        foreach (var name in await Lines("NLST mp/one.txt"))
        {
            Assert.Equal(226, (await c.DownloadAsync("RETR " + name)).Final.Code);
        }
    }

    [Fact]
    public async Task UploadIntoAMissingDirectory_Is553_AndOntoADirectoryIs550_BothBefore150()
    {
        Directory.CreateDirectory(Disk("d"));
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR no/such/dir.bin", 553);
        await c.ExpectAsync("STOU no/such/", 553);
        await c.ExpectAsync("STOR d", 550);
        Assert.True(Directory.Exists(Disk("d")));
        Assert.Equal(226, (await c.UploadAsync("STOR d/file.bin", [1])).Code);
    }

    [Fact]
    public async Task ReservedTemporaryNames_AreNotAllowed()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        Assert.Equal(553, (await c.UploadAsync("STOR .ftpgw-0123.part", [1])).Code);
    }

    private static async Task<int> EpsvPort(RawFtpClient c)
    {
        var text = (await c.ExpectAsync("EPSV", 229)).Text;
        var start = text.IndexOf("|||", StringComparison.Ordinal) + 3;
        return int.Parse(text[start..text.IndexOf('|', start)], CultureInfo.InvariantCulture);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>The transfer, listing and file commands over real sockets, as clients send them.</summary>
public sealed class FileTransfersOverTcpTests : IAsyncLifetime
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

using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests;

/// <summary>Control-connection behaviour over real TCP: login, sequencing, parsing, the simple commands.</summary>
public sealed class SessionCommandTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(anonymous: false);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Greeting_Is220()
    {
        await using var c = await RawFtpClient.ConnectAsync(_server.Port);
        Assert.Equal(220, c.Greeting.Code);
    }

    [Fact]
    public async Task Login_WithTheRightPassword_Is230_AndAWrongOneIs530()
    {
        await using var c = await RawFtpClient.ConnectAsync(_server.Port);
        await c.ExpectAsync("USER alice", 331);
        await c.ExpectAsync("PASS wrong", 530);
        await c.ExpectAsync("USER alice", 331);
        await c.ExpectAsync("PASS secret-pw", 230);
        await c.ExpectAsync("PWD", 257);
    }

    [Fact]
    public async Task Login_WithAHashedPassword_Works()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port, "jailed", "jail-pw");
        Assert.Equal("257 \"/\" is the current directory.", (await c.SendAsync("PWD")).Text);
    }

    [Fact]
    public async Task PassWithoutUser_Is503_AndRntoWithoutRnfrIs503()
    {
        await using var c = await RawFtpClient.ConnectAsync(_server.Port);
        await c.ExpectAsync("PASS secret-pw", 503);
        await c.ExpectAsync("USER alice", 331);
        await c.ExpectAsync("PASS secret-pw", 230);
        await c.ExpectAsync("RNTO x", 503);
    }

    [Fact]
    public async Task TooManyWrongPasswords_Closes_With421()
    {
        await using var c = await RawFtpClient.ConnectAsync(_server.Port);
        await c.ExpectAsync("USER alice", 331);
        await c.ExpectAsync("PASS a", 530);
        await c.ExpectAsync("USER alice", 331);
        await c.ExpectAsync("PASS b", 530);
        await c.ExpectAsync("USER alice", 331);
        await c.ExpectAsync("PASS c", 421);
        Assert.True(await c.IsClosedByServerAsync());
    }

    [Theory]
    [InlineData("CWD /")]
    [InlineData("CDUP")]
    [InlineData("PWD")]
    [InlineData("LIST")]
    [InlineData("NLST")]
    [InlineData("MLSD")]
    [InlineData("MLST x")]
    [InlineData("RETR x")]
    [InlineData("STOR x")]
    [InlineData("APPE x")]
    [InlineData("STOU")]
    [InlineData("DELE x")]
    [InlineData("MKD x")]
    [InlineData("RMD x")]
    [InlineData("RNFR x")]
    [InlineData("SIZE x")]
    [InlineData("MDTM x")]
    [InlineData("PASV")]
    [InlineData("EPSV")]
    [InlineData("PORT 127,0,0,1,200,10")]
    [InlineData("REST 0")]
    [InlineData("HASH x")]
    [InlineData("STAT /")]
    public async Task FileAndTransferCommands_BeforeLogin_Are530(string command)
    {
        await using var c = await RawFtpClient.ConnectAsync(_server.Port);
        await c.ExpectAsync(command, 530);
        await c.ExpectAsync("NOOP", 200);
    }

    [Theory]
    [InlineData("FOO", 500)]
    [InlineData("ACCT x", 202)]
    [InlineData("ALLO 1000", 200)] // 202 makes some IP cameras (Dahua) retry for ever
    [InlineData("SMNT /x", 502)]
    [InlineData("MODE S", 200)]
    [InlineData("MODE B", 504)]
    [InlineData("MODE C", 504)]
    [InlineData("MODE Z", 501)]
    [InlineData("STRU F", 200)]
    [InlineData("STRU R", 504)]
    [InlineData("STRU P", 504)]
    [InlineData("TYPE A", 200)]
    [InlineData("TYPE A N", 200)]
    [InlineData("TYPE I", 200)]
    [InlineData("TYPE L 8", 200)]
    [InlineData("TYPE E", 504)]
    [InlineData("TYPE A T", 504)]
    [InlineData("TYPE X", 501)]
    [InlineData("TYPE", 501)]
    [InlineData("SYST", 215)]
    [InlineData("NOOP", 200)]
    [InlineData("HELP", 214)]
    [InlineData("HELP RETR", 214)]
    [InlineData("HELP BOGUS", 502)]
    [InlineData("SITE HELP", 214)]
    [InlineData("SITE CHMOD 777 x", 550)]
    [InlineData("SITE CHMOD x", 501)]
    [InlineData("SITE BOGUS", 504)]
    [InlineData("SITE IDLE 5", 501)]
    [InlineData("SITE UTIME soon x", 501)]
    [InlineData("OPTS UTF8 ON", 200)]
    [InlineData("OPTS UTF8 OFF", 200)]
    [InlineData("OPTS BOGUS", 501)]
    [InlineData("OPTS", 501)]
    [InlineData("REST abc", 501)]
    [InlineData("REST -5", 501)]
    [InlineData("CLNT curl", 200)]
    [InlineData("AUTH TLS", 502)]
    [InlineData("PBSZ 0", 503)]
    [InlineData("PROT P", 503)]
    [InlineData("STAT", 211)]
    [InlineData("XPWD", 257)]
    [InlineData("CDUP", 200)]
    [InlineData("XCUP", 200)]
    [InlineData("RETR", 501)]
    [InlineData("MFMT 2020 x", 501)]
    public async Task Commands_AnswerTheirRfcCodes(string command, int code)
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        var reply = await c.SendAsync(command);
        Assert.True(code == reply.Code, $"{command}: {reply}");
        await c.ExpectAsync("NOOP", 200); // and the session is still usable
    }

    [Fact]
    public async Task SiteCommands_ChmodIsAcceptedWithoutEffect_UtimeSetsTheTimeInBothForms_HelpListsThem()
    {
        File.WriteAllText(_server.Root.File("tool.sh"), "#!/bin/sh");
        File.WriteAllText(_server.Root.File("two words.txt"), "x");
        var mode = File.GetUnixFileMode(_server.Root.File("tool.sh"));
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("SITE CHMOD 755 tool.sh", 200);
        Assert.Equal(mode, File.GetUnixFileMode(_server.Root.File("tool.sh")));

        await c.ExpectAsync("SITE UTIME 202001020304 tool.sh", 200); // ProFTPD's form, minutes only
        Assert.Equal("213 20200102030400", (await c.SendAsync("MDTM tool.sh")).Text);
        await c.ExpectAsync("SITE UTIME two words.txt 20210101000000 20210203040506 20210101000000 UTC", 200); // wu-ftpd's
        Assert.Equal("213 20210203040506", (await c.SendAsync("MDTM two words.txt")).Text);

        var help = await c.ExpectAsync("SITE HELP", 214);
        Assert.Contains(help.Lines, l => l.Contains("CHMOD IDLE UTIME HELP", StringComparison.Ordinal));
        Assert.Contains("600 seconds (at most 7200)", (await c.ExpectAsync("SITE IDLE", 200)).Text, StringComparison.Ordinal);

        await using var reader = await RawFtpClient.LoginAsync(_server.Port, "reader", "read-pw");
        await reader.ExpectAsync("SITE CHMOD 600 tool.sh", 550);
        await reader.ExpectAsync("SITE UTIME 202001020304 tool.sh", 550);
    }

    [Fact]
    public async Task Feat_ListsTheExtensions_OnSpaceIndentedLines()
    {
        await using var c = await RawFtpClient.ConnectAsync(_server.Port);
        var reply = await c.ExpectAsync("FEAT", 211);
        var features = reply.Lines.Skip(1).SkipLast(1).ToList();
        Assert.All(features, f => Assert.StartsWith(" ", f, StringComparison.Ordinal));
        var names = features.Select(f => f.Trim()).ToList();
        foreach (var expected in new[] { "UTF8", "EPRT", "EPSV", "MDTM", "SIZE", "REST STREAM", "MFMT", "XCRC", "XMD5", "XSHA1", "XSHA256" })
        {
            Assert.Contains(expected, names);
        }

        Assert.Contains(names, n => n.StartsWith("MLST type*;size*;modify*;perm*;", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("HASH SHA-256*", StringComparison.Ordinal));
        Assert.DoesNotContain("AUTH TLS", names); // no certificate configured
    }

    [Fact]
    public async Task UnknownCommands_Garbage_AndBinaryJunk_Get500_AndTheSessionSurvives()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.SendRawAsync([0x00, 0x01, 0xC3, 0x28, 0x80, 0xFE, (byte)'\r', (byte)'\n']);
        Assert.Equal(500, (await c.ReadReplyAsync()).Code);
        await c.ExpectAsync("GET / HTTP/1.1", 500);
        await c.ExpectAsync("PWD", 257);
    }

    [Fact]
    public async Task AnOverlongLine_Is500_AndTheSessionSurvives()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("STOR " + new string('x', 10_000), 500);
        await c.ExpectAsync("PWD", 257);
    }

    [Fact]
    public async Task PipelinedCommands_AreAnsweredInOrder()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.SendRawAsync("NOOP\r\nMKD pipe\r\nCWD pipe\r\nPWD\r\n"u8.ToArray());
        Assert.Equal(200, (await c.ReadReplyAsync()).Code);
        Assert.Equal(257, (await c.ReadReplyAsync()).Code);
        Assert.Equal(250, (await c.ReadReplyAsync()).Code);
        Assert.Equal("257 \"/pipe\" is the current directory.", (await c.ReadReplyAsync()).Text);
    }

    [Fact]
    public async Task LineEndings_CrOnlyAndLfOnly_AreAccepted()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.SendRawAsync("NOOP\rPWD\n"u8.ToArray());
        Assert.Equal(200, (await c.ReadReplyAsync()).Code);
        Assert.Equal(257, (await c.ReadReplyAsync()).Code);
    }

    [Fact]
    public async Task Directories_MkdCwdCdupRmd_AndTheirXAliases()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        Assert.Equal("257 \"/a\" created.", (await c.SendAsync("MKD a")).Text);
        await c.ExpectAsync("XMKD /a/b", 257);
        await c.ExpectAsync("CWD a", 250);
        await c.ExpectAsync("XCWD b", 250);
        Assert.Equal("257 \"/a/b\" is the current directory.", (await c.SendAsync("XPWD")).Text);
        await c.ExpectAsync("CDUP", 200);
        Assert.Equal("257 \"/a\" is the current directory.", (await c.SendAsync("PWD")).Text);
        await c.ExpectAsync("RMD /a", 550); // not empty
        await c.ExpectAsync("XRMD b", 250);
        await c.ExpectAsync("RMD /a", 250);
        await c.ExpectAsync("CWD /a", 550);
        await c.ExpectAsync("MKD /missing/parent/x", 550);
        Assert.False(Directory.Exists(_server.Root.File("a")));
    }

    [Fact]
    public async Task Mkd_QuotesANameContainingQuotes()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        Assert.Equal("257 \"/say \"\"hi\"\"\" created.", (await c.SendAsync("MKD say \"hi\"")).Text);
        Assert.True(Directory.Exists(_server.Root.File("say \"hi\"")));
    }

    [Fact]
    public async Task Cwd_ToAFile_IsRefused_AndMkdOnAnExistingName550()
    {
        File.WriteAllText(_server.Root.File("f.txt"), "x");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("CWD f.txt", 550);
        await c.ExpectAsync("MKD f.txt", 550);
    }

    [Fact]
    public async Task Paths_CannotEscapeTheUsersRoot()
    {
        Directory.CreateDirectory(_server.Root.File("home/jailed"));
        File.WriteAllText(_server.Root.File("top-secret.txt"), "admin only");
        await using var c = await RawFtpClient.LoginAsync(_server.Port, "jailed", "jail-pw");
        await c.ExpectAsync("CWD ../../..", 250);
        Assert.Equal("257 \"/\" is the current directory.", (await c.SendAsync("PWD")).Text);
        await c.ExpectAsync("SIZE ../../top-secret.txt", 550);
        await c.ExpectAsync("SIZE /../top-secret.txt", 550);
        await c.ExpectAsync("SIZE ..\\..\\top-secret.txt", 550);
        await c.ExpectAsync("MKD ../../escaped", 257);
        Assert.True(Directory.Exists(_server.Root.File("home/jailed/escaped")));
        Assert.False(Directory.Exists(_server.Root.File("escaped")));
        await c.ExpectAsync("CWD %2e%2e", 550); // a literal name, not a parent
    }

    [Fact]
    public async Task JailedUser_RootIsCreatedOnFirstLogin()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port, "jailed", "jail-pw");
        Assert.True(Directory.Exists(_server.Root.File("home/jailed")));
    }

    [Fact]
    public async Task ReadOnlyUser_CanListAndDownload_ButNotChangeAnything()
    {
        File.WriteAllText(_server.Root.File("r.txt"), "read me");
        await using var c = await RawFtpClient.LoginAsync(_server.Port, "reader", "read-pw");
        Assert.Contains("r.txt", await c.ListAsync("NLST"), StringComparison.Ordinal);
        Assert.Equal("read me", Encoding.UTF8.GetString((await c.DownloadAsync("RETR r.txt")).Data));
        foreach (var command in new[] { "STOR new.txt", "APPE r.txt", "STOU", "DELE r.txt", "MKD d", "RMD d", "RNFR r.txt", "MFMT 20200101000000 r.txt" })
        {
            await c.ExpectAsync(command, 550);
        }

        Assert.Equal("read me", File.ReadAllText(_server.Root.File("r.txt")));
    }

    [Fact]
    public async Task WriteOnlyUser_IsADropBox()
    {
        File.WriteAllText(_server.Root.File("existing.txt"), "keep");
        await using var c = await RawFtpClient.LoginAsync(_server.Port, "drop", "drop-pw");
        await c.ExpectAsync("MKD 2026-11-22", 257);
        await c.ExpectAsync("CWD 2026-11-22", 250);
        Assert.Equal(226, (await c.UploadAsync("STOR img001.jpg", [1, 2, 3])).Code);
        Assert.Equal(226, (await c.UploadAsync("STOR img001.jpg", [4, 5, 6])).Code); // devices re-send
        Assert.Equal([4, 5, 6], File.ReadAllBytes(_server.Root.File("2026-11-22/img001.jpg")));
        foreach (var command in new[] { "LIST", "NLST", "MLSD", "MLST img001.jpg", "RETR img001.jpg", "SIZE img001.jpg", "MDTM img001.jpg", "DELE img001.jpg", "RNFR img001.jpg", "RMD /2026-11-22", "HASH img001.jpg", "STAT /" })
        {
            await c.ExpectAsync(command, 550);
        }
    }

    [Fact]
    public async Task Anonymous_IsRefusedWhenDisabled()
    {
        await using var c = await RawFtpClient.ConnectAsync(_server.Port);
        await c.ExpectAsync("USER anonymous", 331);
        await c.ExpectAsync("PASS guest@example.com", 530);
    }

    [Fact]
    public async Task Anonymous_WhenEnabled_IsReadOnlyInItsRoot()
    {
        await using var server = await TestServer.StartAsync(anonymous: true);
        Directory.CreateDirectory(server.Root.File("pub"));
        File.WriteAllText(server.Root.File("pub/readme.txt"), "public");
        File.WriteAllText(server.Root.File("private.txt"), "private");
        await using var c = await RawFtpClient.ConnectAsync(server.Port);
        await c.ExpectAsync("USER ftp", 331);
        await c.ExpectAsync("PASS guest@example.com", 230);
        Assert.Equal("readme.txt\r\n", await c.ListAsync("NLST"));
        await c.ExpectAsync("MKD x", 550);
        await c.ExpectAsync("SIZE /../private.txt", 550);
    }

    [Fact]
    public async Task Rein_LogsOut_AndQuitCloses()
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        await c.ExpectAsync("REIN", 220);
        await c.ExpectAsync("PWD", 530);
        await c.ExpectAsync("USER alice", 331);
        await c.ExpectAsync("PASS secret-pw", 230);
        await c.ExpectAsync("QUIT", 221);
        Assert.True(await c.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Stat_WhoseListingFailsPartWay_EndsItsReplyCleanly_AndTheSessionGoesOn()
    {
        await using var server = await TestServer.StartAsync(wrap: s => new FaultyStorage(s) { FailListingAfter = 2 });
        for (var i = 0; i < 5; i++)
        {
            File.WriteAllText(server.Root.File($"f{i}.txt"), "x");
        }

        await using var c = await RawFtpClient.LoginAsync(server.Port);
        var reply = await c.ExpectAsync("STAT /", 212);
        Assert.Equal("212 End of status.", reply.Lines[^1]);
        Assert.Equal(" (listing incomplete: Storage temporarily unavailable; try again later.)", reply.Lines[^2]);
        Assert.Equal(5, reply.Lines.Count); // the first line, two entries, the note, the last line
        Assert.DoesNotContain("secret-bucket", reply.Text, StringComparison.Ordinal);
        await c.ExpectAsync("NOOP", 200);
    }

    [Fact]
    public async Task AMultiLineBanner_IsAMultiLine220()
    {
        await using var server = await TestServer.StartAsync(o => o.Banner = "Welcome to the camera inbox\nAuthorised use only");
        await using var c = await RawFtpClient.ConnectAsync(server.Port);
        Assert.Equal(["220-Welcome to the camera inbox", "220 Authorised use only"], c.Greeting.Lines);
    }

    [Fact]
    public async Task Stat_WithAPath_ListsOverTheControlConnection()
    {
        File.WriteAllText(_server.Root.File("s.txt"), "12345");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        var reply = await c.ExpectAsync("STAT /", 212);
        Assert.Contains(reply.Lines, l => l.EndsWith(" s.txt", StringComparison.Ordinal) && l.Contains(" 5 ", StringComparison.Ordinal));
        Assert.Equal(213, (await c.SendAsync("STAT s.txt")).Code);
        await c.ExpectAsync("STAT nothing", 550);
    }

    [Fact]
    public async Task SessionsPerAddress_AreLimited_With421()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxSessionsPerAddress = 2);
        await using var a = await RawFtpClient.ConnectAsync(server.Port);
        await using var b = await RawFtpClient.ConnectAsync(server.Port);
        await using var c = await RawFtpClient.ConnectAsync(server.Port);
        Assert.Equal(220, a.Greeting.Code);
        Assert.Equal(220, b.Greeting.Code);
        Assert.Equal(421, c.Greeting.Code);
        await a.ExpectAsync("QUIT", 221);
        await Poll.UntilAsync(() => server.ActiveSessions == 1, "the first session to end");
        await using var d = await RawFtpClient.ConnectAsync(server.Port);
        Assert.Equal(220, d.Greeting.Code);
    }

    [Fact]
    public async Task HundredsOfSessionsFromOneAddress_WorkWithDefaults()
    {
        await using var server = await TestServer.StartAsync();
        var clients = new List<RawFtpClient>();
        try
        {
            for (var i = 0; i < 300; i++)
            {
                clients.Add(await RawFtpClient.ConnectAsync(server.Port));
            }

            Assert.All(clients, c => Assert.Equal(220, c.Greeting.Code));
            await clients[^1].ExpectAsync("USER alice", 331);
            await clients[^1].ExpectAsync("PASS secret-pw", 230);
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisposeAsync();
            }
        }
    }
}

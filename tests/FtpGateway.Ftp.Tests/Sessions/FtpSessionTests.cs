using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Sessions;

/// <summary>The control connection over real TCP: the greeting, sequencing, parsing, pipelining and the simple commands.</summary>
public sealed class FtpSessionTests : IAsyncLifetime
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
    public async Task PassWithoutUser_Is503_AndRntoWithoutRnfrIs503()
    {
        await using var c = await RawFtpClient.ConnectAsync(_server.Port);
        await c.ExpectAsync("PASS secret-pw", 503);
        await c.ExpectAsync("USER alice", 331);
        await c.ExpectAsync("PASS secret-pw", 230);
        await c.ExpectAsync("RNTO x", 503);
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
}

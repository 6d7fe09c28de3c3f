using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests;

/// <summary>What only the local disk has, driven over real TCP as an attacker would: symbolic links and names. The jailed user's root is /home/jailed.</summary>
public sealed class LocalDiskLinkTests : IAsyncLifetime
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
    public async Task ASymbolicLinkChain_CannotTakeAJailedUserOutOfItsRoot()
    {
        // The chain of the report: l_slash -> "/", l_chain_dir -> "l_slash/<outside>". Only the last link was checked.
        File.CreateSymbolicLink(Jail("l_slash"), "/");
        File.CreateSymbolicLink(Jail("l_chain_dir"), "l_slash" + _outside);
        await using var c = await JailedAsync();

        Assert.Equal(550, (await c.DownloadAsync("RETR l_chain_dir/secret.txt")).Final.Code);
        Assert.Equal(550, (await c.DownloadAsync("LIST l_chain_dir")).Final.Code);
        Assert.Equal(553, (await c.UploadAsync("STOR l_chain_dir/planted.txt", [1])).Code); // as any missing directory
        Assert.Equal(553, (await c.UploadAsync("APPE l_chain_dir/secret.txt", [1])).Code);
        await c.ExpectAsync("DELE l_chain_dir/secret.txt", 550);
        await c.ExpectAsync("MKD l_chain_dir/made", 550);
        await c.ExpectAsync("RNFR l_chain_dir/secret.txt", 550);
        File.WriteAllText(Jail("mine.txt"), "mine");
        await c.ExpectAsync("RNFR mine.txt", 350);
        await c.ExpectAsync("RNTO l_chain_dir/mine.txt", 550);
        await c.ExpectAsync("SIZE l_slash/etc/hostname", 550);

        var names = (await c.ListAsync("NLST")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["mine.txt"], names); // links that lead out are not listed
        Assert.Equal(["secret.txt"], Directory.GetFiles(_outside).Select(Path.GetFileName));
        Assert.Equal("outside the storage root", File.ReadAllText(Path.Combine(_outside, "secret.txt")));
    }

    [Fact]
    public async Task ALinkIntoAnotherUsersArea_LeadsNowhere_ThoughItStaysInsideTheStorage()
    {
        Directory.CreateDirectory(_server.Root.File("home/other"));
        File.WriteAllText(_server.Root.File("home/other/private.txt"), "other user's");
        File.CreateSymbolicLink(Jail("peek"), "../other");
        await using var c = await JailedAsync();
        Assert.Equal(550, (await c.DownloadAsync("RETR peek/private.txt")).Final.Code);
        await c.ExpectAsync("CWD peek", 550);
        Assert.DoesNotContain("peek", await c.ListAsync("NLST"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LinksThatStayInside_Work_AndSizeMdtmMlstDescribeTheFile_NotTheLink()
    {
        Directory.CreateDirectory(Jail("data"));
        File.WriteAllText(Jail("data/file.txt"), "twenty-five bytes of data");
        File.SetLastWriteTimeUtc(Jail("data/file.txt"), new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc));
        File.CreateSymbolicLink(Jail("relative"), "data/file.txt");
        File.CreateSymbolicLink(Jail("absolute"), Jail("data/file.txt"));
        await using var c = await JailedAsync();
        foreach (var name in new[] { "relative", "absolute" })
        {
            Assert.Equal("213 25", (await c.SendAsync("SIZE " + name)).Text);
            Assert.Equal("213 20210304050607", (await c.SendAsync("MDTM " + name)).Text);
            Assert.StartsWith(" type=file;size=25;", (await c.ExpectAsync("MLST " + name, 250)).Lines[1], StringComparison.Ordinal);
            Assert.Equal("twenty-five bytes of data", Encoding.ASCII.GetString((await c.DownloadAsync("RETR " + name)).Data));
        }
    }

    [Fact]
    public async Task ASymbolicLinkLoop_Is550_TheSessionGoesOn_AndListingsSkipIt()
    {
        File.CreateSymbolicLink(Jail("l_loop1"), "l_loop2");
        File.CreateSymbolicLink(Jail("l_loop2"), "l_loop1");
        File.CreateSymbolicLink(Jail("dangling"), "nothing-here");
        File.WriteAllText(Jail("real.txt"), "real");
        await using var c = await JailedAsync();
        await c.ExpectAsync("SIZE l_loop1", 550);
        await c.ExpectAsync("CWD l_loop1", 550);
        await c.ExpectAsync("NOOP", 200);
        foreach (var listing in new[] { "LIST", "NLST", "MLSD" })
        {
            var (data, final) = await c.DownloadAsync(listing);
            Assert.Equal(226, final.Code);
            var lines = Encoding.UTF8.GetString(data).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines, l => l.EndsWith("real.txt", StringComparison.Ordinal));
            Assert.Single(lines);
        }
    }

    [Fact]
    public async Task AFileNamedWithLineBreaks_NeverReachesTheControlConnection_NorAListing()
    {
        File.WriteAllText(_server.Root.File("e\r\n212 injected\r\n"), "x");
        File.WriteAllText(_server.Root.File("plain.txt"), "x");
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        var stat = await c.ExpectAsync("STAT /", 212);
        Assert.DoesNotContain(stat.Lines, l => l.Contains("injected", StringComparison.Ordinal));
        Assert.Equal(["home", "plain.txt"], stat.Lines.Skip(1).SkipLast(1).Select(l => l.Split(' ')[^1]).Order(StringComparer.Ordinal));
        await c.ExpectAsync("NOOP", 200); // still in step: no reply was injected
        foreach (var listing in new[] { "LIST", "NLST", "MLSD" })
        {
            var (data, final) = await c.DownloadAsync(listing);
            Assert.Equal(226, final.Code);
            Assert.DoesNotContain("injected", Encoding.UTF8.GetString(data), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("MKD a\0b")]
    [InlineData("STOR x\0y")]
    [InlineData("RNTO x\u0007y")]
    public async Task NamesWithControlCharacters_CannotBeCreated(string command)
    {
        await using var c = await RawFtpClient.LoginAsync(_server.Port);
        if (command.StartsWith("RNTO", StringComparison.Ordinal))
        {
            File.WriteAllText(_server.Root.File("x"), "x");
            await c.ExpectAsync("RNFR x", 350);
        }

        await c.SendRawAsync(Encoding.UTF8.GetBytes(command + "\r\n"));
        Assert.Equal(553, (await c.ReadReplyAsync()).Code);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_server.Root.Path), e => Path.GetFileName(e).Any(char.IsControl));
    }
}

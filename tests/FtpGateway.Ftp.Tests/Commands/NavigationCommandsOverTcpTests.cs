using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>Directories over real TCP: MKD, CWD, CDUP, RMD and their X aliases, quoting, and a user's root as the limit.</summary>
public sealed class NavigationCommandsOverTcpTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(anonymous: false);

    public async Task DisposeAsync() => await _server.DisposeAsync();

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
}

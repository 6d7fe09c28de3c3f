using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>Logins over real TCP: passwords, kinds of users, anonymous, REIN, and the session limits.</summary>
public sealed class AccessCommandsOverTcpTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(anonymous: false);

    public async Task DisposeAsync() => await _server.DisposeAsync();

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
        // Its own files it may delete and rename for a while (ownUploadsEditableFor, DeviceAccessTests); nothing else.
        foreach (var command in new[] { "LIST", "NLST", "MLSD", "MLST img001.jpg", "RETR img001.jpg", "SIZE img001.jpg", "MDTM img001.jpg", "DELE /existing.txt", "RNFR /existing.txt", "RMD /2026-11-22", "HASH img001.jpg", "STAT /" })
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

using System.Net.Sockets;
using FtpGateway.Storage;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Transfers;

/// <summary>A running transfer over real sockets: ABOR, STAT and NOOP beside it, and every way it can fail without committing.</summary>
public sealed class TransferRunnerTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Disk(string path) => _server.Root.File(path);

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
}

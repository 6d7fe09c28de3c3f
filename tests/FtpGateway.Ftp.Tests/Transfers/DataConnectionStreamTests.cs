using System.Net.Security;
using System.Net.Sockets;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Transfers;

/// <summary>sendfile(2) for plain downloads from disk, over a real loopback connection.</summary>
public sealed class DataConnectionStreamTests
{
    [Fact]
    public async Task APlainConnection_SendsTheFileFromItsPosition_AndCountsTheBytes()
    {
        using var root = new TempDirectory();
        var content = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        await File.WriteAllBytesAsync(root.File("f.bin"), content);
        var (client, server) = await LoopbackSockets.PairAsync();
        using (client)
        {
            await using var data = new DataConnectionStream(new NetworkStream(server, ownsSocket: true), TimeProvider.System);
            await using var file = new FileStream(root.File("f.bin"), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0) { Position = 1000 };
            var received = RawFtpClient.ReadToEndAsync(client);

            Assert.True(await data.TrySendFileAsync(file, CancellationToken.None));
            server.Shutdown(SocketShutdown.Send);

            Assert.Equal(content[1000..], await received);
            Assert.Equal(content.Length - 1000, data.Bytes);
            Assert.Equal(TimeSpan.Zero, data.Waiting);
        }
    }

    [Fact]
    public async Task ABandwidthLimitOrTls_KeepsTheCopyLoop()
    {
        using var root = new TempDirectory();
        await File.WriteAllBytesAsync(root.File("f.bin"), new byte[10]);
        var (client, server) = await LoopbackSockets.PairAsync();
        using (client)
        {
            await using var file = new FileStream(root.File("f.bin"), FileMode.Open, FileAccess.Read);
            await using var throttled = new DataConnectionStream(new NetworkStream(server, ownsSocket: true), TimeProvider.System) { Throttle = new TokenBucket(1000, TimeProvider.System) };
            Assert.False(await throttled.TrySendFileAsync(file, CancellationToken.None));

            await using var tls = new DataConnectionStream(new SslStream(new MemoryStream()), TimeProvider.System);
            Assert.False(await tls.TrySendFileAsync(file, CancellationToken.None));
            Assert.Equal(0, throttled.Bytes + tls.Bytes);
        }
    }

    [Fact]
    public async Task Cancellation_ClosesTheConnection_AndEndsTheSend()
    {
        using var root = new TempDirectory();
        await File.WriteAllBytesAsync(root.File("f.bin"), new byte[64 * 1024 * 1024]);
        var (client, server) = await LoopbackSockets.PairAsync();
        using (client)
        {
            await using var data = new DataConnectionStream(new NetworkStream(server, ownsSocket: true), TimeProvider.System);
            await using var file = new FileStream(root.File("f.bin"), FileMode.Open, FileAccess.Read);
            using var cts = new CancellationTokenSource();
            var sending = data.TrySendFileAsync(file, cts.Token); // the client reads nothing: the send blocks
            await Poll.UntilAsync(() => data.Waiting > TimeSpan.Zero && data.Bytes > 0, "the send to fill the connection and wait");

            await cts.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
            Assert.True(data.Bytes < file.Length);
        }
    }

    [Fact]
    public async Task AnAppend_IsNotHeldBackByADownloadOfTheSameFile()
    {
        await using var server = await TestServer.StartAsync();
        await File.WriteAllBytesAsync(server.Root.File("log.bin"), new byte[64 * 1024 * 1024]);
        await using var reader = await RawFtpClient.LoginAsync(server.Port);
        using var download = await reader.OpenPassiveAsync();
        await reader.ExpectAsync("RETR log.bin", 150); // the reader reads nothing: the download stays open

        await using var writer = await RawFtpClient.LoginAsync(server.Port);
        var appended = await writer.UploadAsync("APPE log.bin", "more"u8.ToArray());

        Assert.Equal(226, appended.Code);
        Assert.Equal(64 * 1024 * 1024 + 4, new FileInfo(server.Root.File("log.bin")).Length);
    }
}

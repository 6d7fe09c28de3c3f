using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>Graceful shutdown (what SIGTERM triggers): running transfers finish, nothing new starts, nothing is lost.</summary>
[Collection("Alone")]
public sealed class DrainTests
{
    [Fact]
    public async Task StoppingDuringAnUpload_LetsItFinish_RefusesNewWork_AndLosesNothing()
    {
        // A control port below the ephemeral range: the late connection below must find it closed, not a passive
        // listener of another test process that the kernel gave the freed number.
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?>
        {
            ["Ftp:DrainTimeout"] = "00:00:20",
            ["Ftp:Port"] = FreePorts.One().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var http = new HttpClient();
        var content = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
        await using var uploader = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        await using var idle = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        using var data = await uploader.OpenPassiveAsync();
        await uploader.ExpectAsync("STOR during-shutdown.bin", 150);
        await data.SendAsync(content.AsMemory(0, 1024 * 1024));

        var stopping = gateway.StopAsync();

        // Draining: not ready, no new connections, idle sessions told 421.
        await Poll.UntilAsync(
            async () => (await http.GetAsync(new Uri(gateway.ManagementUrl, "/readyz"))).StatusCode == HttpStatusCode.ServiceUnavailable,
            "readiness to drop");
        await Assert.ThrowsAnyAsync<SocketException>(async () =>
        {
            using var late = new TcpClient();
            await late.ConnectAsync(IPAddress.Loopback, gateway.Port);
        });
        Assert.Equal(421, (await idle.ReadReplyAsync()).Code);

        // The running upload finishes and is committed, answered 226, then the session is closed with 421.
        await data.SendAsync(content.AsMemory(1024 * 1024));
        data.Shutdown(SocketShutdown.Send);
        data.Close();
        Assert.Equal(226, (await uploader.ReadReplyAsync()).Code);
        Assert.Equal(421, (await uploader.ReadReplyAsync()).Code);
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(content, await File.ReadAllBytesAsync(gateway.Root.File("during-shutdown.bin")));
    }

    [Fact]
    public async Task AnUploadStillRunningAtTheDrainTimeout_IsCutOff_AndCommitsNothing()
    {
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?> { ["Ftp:DrainTimeout"] = "00:00:01" });
        await using var uploader = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        using var data = await uploader.OpenPassiveAsync();
        await uploader.ExpectAsync("STOR too-slow.bin", 150);
        await data.SendAsync(new byte[100_000]); // and never finishes
        await gateway.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(File.Exists(gateway.Root.File("too-slow.bin")));
    }
}

using System.Net.Sockets;
using System.Security.Cryptography;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The repository's Dockerfile, built and run with podman (runc; no Docker engine here). Registry images cannot be
/// pulled here, so the two bases it takes as build arguments are made from Debian's packages with mmdebstrap: the
/// runtime base from the libraries .NET needs, without ICU (in place of Microsoft's chiseled runtime-deps image), the SDK base from the
/// same plus this machine's .NET SDK and trust store (in place of Microsoft's SDK image). The build stage therefore
/// really runs <c>dotnet publish</c> inside a container (restore included); what is not exercised is Microsoft's
/// own base images. The image then runs the way the chart runs it: non-root, read-only root file system, a volume
/// for local disk, a tmpfs for /tmp.
/// </summary>
[Collection("Alone")]
public sealed class ContainerImageTests
{
    private const string RuntimeBase = "localhost/ftpgateway-test/runtime-deps:no-icu";
    // The SDK base carries this machine's SDK: its version is in the tag, so an SDK upgrade makes a new base.
    private static readonly string SdkBase = "localhost/ftpgateway-test/sdk:" + Path.GetFileName(Directory.GetDirectories("/usr/share/dotnet/sdk").Max());
    private const string Image = "localhost/ftpgateway:test";

    private static readonly string[] Isolation = ["--runtime", "/usr/sbin/runc", "--network=host", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];

    private static async Task<ExternalProcess.Result> PodmanAsync(params string[] args) =>
        await ExternalProcess.RunAsync(ExternalProcess.Require("podman"), args, timeout: TimeSpan.FromMinutes(10));

    private static async Task Succeed(Task<ExternalProcess.Result> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>A base image from Debian's packages (made once per machine; the tag is reused afterwards).</summary>
    private static async Task BaseAsync(string tag, TempDirectory work, string packages, params string[] hooks)
    {
        if ((await PodmanAsync("image", "exists", tag)).ExitCode == 0)
        {
            return;
        }

        var rootfs = work.File(tag.Replace('/', '_').Replace(':', '_') + ".tar");
        await Succeed(ExternalProcess.RunAsync(
            ExternalProcess.Require("mmdebstrap"),
            ["--variant=essential", "--include=" + packages, .. hooks, "bookworm", rootfs],
            timeout: TimeSpan.FromMinutes(10)));
        await Succeed(PodmanAsync("import", rootfs, tag));
    }

    [Fact]
    public async Task TheDockerfile_BuildsAndRuns_NonRoot_ReadOnly_AndExitsCleanlyAfterItsUploadOnSigterm()
    {
        using var work = new TempDirectory();
        // The runtime base has what chiseled runtime-deps has, and no ICU either: the image must run without it.
        await BaseAsync(RuntimeBase, work, "ca-certificates,libstdc++6,libssl3,zlib1g");
        await BaseAsync(SdkBase, work, "ca-certificates,libstdc++6,libssl3,zlib1g,libicu72",
            "--customize-hook=copy-in /usr/share/dotnet /usr/share",
            "--customize-hook=chroot \"$1\" ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet",
            "--customize-hook=copy-in /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs");

        var context = Path.GetDirectoryName(TestTools.RepositoryPath("Dockerfile"))!;
        await Succeed(PodmanAsync(
        [
            "build", .. Isolation, "--build-arg", $"SDK_IMAGE={SdkBase}", "--build-arg", $"RUNTIME_IMAGE={RuntimeBase}",
            "-t", Image, "-f", Path.Combine(context, "Dockerfile"), context,
        ]));
        var user = (await PodmanAsync("image", "inspect", Image, "--format", "{{.Config.User}}")).StandardOutput.Trim();
        Assert.Equal("1654", user);

        var data = work.File("data");
        Directory.CreateDirectory(data);
        await Succeed(ExternalProcess.RunAsync("chmod", ["0777", data])); // the volume, writable by the image's user
        var port = FreePorts.One();
        var management = FreePorts.One();
        var name = "ftpgw-test-" + Guid.NewGuid().ToString("N")[..8];
        await Succeed(PodmanAsync(
        [
            "run", "-d", "--name", name, .. Isolation, "--read-only", "--tmpfs", "/tmp", "-v", $"{data}:/data",
            "-e", $"Ftp__Port={port}", "-e", "Ftp__ListenAddress=127.0.0.1", "-e", $"Management__Port={management}",
            "-e", "Management__ListenAddress=127.0.0.1", "-e", "Users__0__Name=cam", "-e", "Users__0__Password=container-pw",
            "-e", "Ftp__DrainTimeout=00:00:30", Image,
        ]));
        try
        {
            await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(60));
            using (var http = new HttpClient())
            {
                await Poll.UntilAsync(
                    async () =>
                    {
                        try
                        {
                            return await http.GetStringAsync(new Uri($"http://127.0.0.1:{management}/readyz")) == "ready\n";
                        }
                        catch (HttpRequestException)
                        {
                            return false;
                        }
                    },
                    "/readyz in the container");
            }

            // Upload and download with curl.
            var file = work.File("photo.jpg");
            var content = RandomNumberGenerator.GetBytes(300_000);
            await File.WriteAllBytesAsync(file, content);
            var curl = ExternalProcess.Require("curl");
            await Succeed(ExternalProcess.RunAsync(curl, ["-sS", "-T", file, $"ftp://cam:container-pw@127.0.0.1:{port}/photo.jpg"]));
            await Succeed(ExternalProcess.RunAsync(curl, ["-sS", "-o", work.File("back.jpg"), $"ftp://cam:container-pw@127.0.0.1:{port}/photo.jpg"]));
            Assert.Equal(content, await File.ReadAllBytesAsync(work.File("back.jpg")));

            // SIGTERM during an upload: the process is PID 1; the upload finishes, then the container exits 0.
            await using var c = await RawFtpClient.LoginAsync(port, "cam", "container-pw");
            using var stream = await c.OpenPassiveAsync();
            await c.ExpectAsync("STOR late.bin", 150);
            var big = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
            await stream.SendAsync(big.AsMemory(0, 1024 * 1024));
            await Succeed(PodmanAsync("kill", "--signal", "TERM", name));
            await Poll.UntilAsync(async () => (await PodmanAsync("logs", name)).StandardOutput.Contains("Draining", StringComparison.Ordinal), "the drain");
            await stream.SendAsync(big.AsMemory(1024 * 1024));
            stream.Shutdown(SocketShutdown.Send);
            Assert.Equal(226, (await c.ReadReplyAsync()).Code);
            Assert.Equal(421, (await c.ReadReplyAsync()).Code);
            var exit = await PodmanAsync("wait", name);
            Assert.Equal("0", exit.StandardOutput.Trim());
            Assert.Equal(big, await File.ReadAllBytesAsync(Path.Combine(data, "late.bin")));
        }
        finally
        {
            await PodmanAsync("rm", "-f", name);
            await PodmanAsync("image", "prune", "-f"); // the build stage's layers and the image a previous run left untagged
        }
    }
}

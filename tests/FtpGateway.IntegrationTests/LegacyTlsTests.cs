using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Legacy TLS on purpose, with the real executable (whose OpenSSL configuration it sets up itself) and real clients:
/// a device that offers only TLS 1.0 with TLS_RSA_WITH_AES_128_CBC_SHA (openssl s_client -tls1 -cipher AES128-SHA)
/// connects to the implicit port configured for it, and uploads (curl); the explicit port stays TLS 1.2+; a gateway
/// with the defaults refuses the device.
/// </summary>
public sealed class LegacyTlsTests
{
    private static async Task<ExternalProcess.Result> OldDeviceAsync(int port, bool starttls = false) =>
        await ExternalProcess.RunAsync(
            ExternalProcess.Require("openssl"),
            ["s_client", "-connect", $"127.0.0.1:{port}", .. starttls ? new[] { "-starttls", "ftp" } : [], "-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"],
            standardInput: "QUIT\r\n",
            timeout: TimeSpan.FromSeconds(30));

    private static async Task<RunningGateway> StartAsync(TempDirectory work, int port, int implicitPort, params string[] extra)
    {
        var (cert, key) = TestCertificates.CreateTlsFiles(work.Path);
        Directory.CreateDirectory(work.File("root"));
        var gateway = await RunningGateway.StartAsync(
        [
            $"--Ftp:Port={port}", "--Ftp:ListenAddress=127.0.0.1", $"--Storage:FileSystem:Root={work.File("root")}",
            "--Users:0:Name=dvr", "--Users:0:Password=dvr-pw", $"--Ftp:Tls:CertificatePath={cert}", $"--Ftp:Tls:KeyPath={key}",
            $"--Ftp:Tls:ImplicitPort={implicitPort}", .. extra,
        ]);
        await gateway.WaitForOutputAsync("FTP server listening");
        return gateway;
    }

    [Fact]
    public async Task ATls10OnlyDevice_ConnectsWhereConfigured_UploadsThere_AndIsRefusedByDefault()
    {
        using var work = new TempDirectory();
        var ports = new[] { FreePorts.One(), FreePorts.One(), FreePorts.One(), FreePorts.One() };
        await using (var legacy = await StartAsync(work, ports[0], ports[1], "--Ftp:Tls:Implicit:MinVersion=Tls10", "--Ftp:Tls:Implicit:CipherSuites:0=TLS_RSA_WITH_AES_128_CBC_SHA"))
        {
            var accepted = await OldDeviceAsync(ports[1]);
            Assert.Matches(@"Protocol\s*:\s*TLSv1\n", accepted.StandardOutput);
            Assert.Matches(@"Cipher\s*:\s*AES128-SHA\n", accepted.StandardOutput);

            // A whole FTPS upload at TLS 1.0, the data connection included.
            var file = work.File("clip.txt");
            await File.WriteAllTextAsync(file, "recorded by an old DVR");
            var curl = await ExternalProcess.RunAsync(
                ExternalProcess.Require("curl"),
                ["-sS", "--ssl-reqd", "-k", "--tlsv1.0", "--tls-max", "1.0", "--ciphers", "AES128-SHA:@SECLEVEL=0", "-T", file, $"ftps://dvr:dvr-pw@127.0.0.1:{ports[1]}/clip.txt"]);
            Assert.True(curl.ExitCode == 0, curl.ToString());
            Assert.Equal("recorded by an old DVR", await File.ReadAllTextAsync(work.File("root/clip.txt")));

            // The explicit port keeps its defaults (TLS 1.2+), and the implicit one offers only the suite named.
            var strict = await OldDeviceAsync(ports[0], starttls: true);
            Assert.DoesNotMatch(@"Cipher\s*:\s*AES128-SHA\n", strict.StandardOutput);
            var modern = await ExternalProcess.RunAsync(
                ExternalProcess.Require("openssl"), ["s_client", "-connect", $"127.0.0.1:{ports[1]}", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"], standardInput: "QUIT\r\n");
            Assert.DoesNotMatch(@"Cipher\s*:\s*ECDHE-RSA-AES128-GCM-SHA256\n", modern.StandardOutput);
        }

        // By default the device is refused on both ports.
        using var other = new TempDirectory();
        await using var strictGateway = await StartAsync(other, ports[2], ports[3]);
        Assert.DoesNotMatch(@"Cipher\s*:\s*AES128-SHA\n", (await OldDeviceAsync(ports[3])).StandardOutput);
        Assert.DoesNotMatch(@"Cipher\s*:\s*AES128-SHA\n", (await OldDeviceAsync(ports[2], starttls: true)).StandardOutput);
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Each ci/ scenario of the chart, rendered by helm and run as its pod (<see cref="ChartPod"/>): the real
/// gateway with nothing but the rendered environment, volumes and Secrets, driven by curl and checked at the
/// storage. This is what catches a chart that renders valid objects but configures the gateway wrongly.
/// Ports are moved to free ones with --set, as an operator would pick them.
/// </summary>
internal static class ChartScenario
{
    /// <summary>Free ports for a scenario's pod: its FTP port and the start of its passive range.</summary>
    /// <param name="ftpPort">the FTP control port.</param>
    /// <param name="passiveStart">the first passive port.</param>
    /// <param name="nodePorts">the Service is a NodePort one: passive ports double as node ports (30000-32767).</param>
    public static string[] Ports(out int ftpPort, out int passiveStart, bool nodePorts = false)
    {
        ftpPort = FreePorts.One();
        passiveStart = nodePorts ? FreePorts.Range(5, 30000, 32767) : FreePorts.Range(5);
        var management = FreePorts.One();
        return [$"ftp.port={ftpPort}", $"ftp.passive.start={passiveStart}", $"ftp.passive.end={passiveStart + 4}", $"management.port={management}"];
    }

    public static Dictionary<string, string> TlsSecret(TempDirectory dir)
    {
        var (certificate, key) = TestCertificates.CreateTlsFiles(dir.Path);
        return new() { ["tls.crt"] = File.ReadAllText(certificate), ["tls.key"] = File.ReadAllText(key) };
    }

    public static async Task CurlAsync(params string[] args)
    {
        var result = await ExternalProcess.RunAsync(ExternalProcess.Require("curl"), ["-sS", "--max-time", "60", .. args]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>PASV as a device behind the load balancer would send it: the announced address and port.</summary>
    public static async Task<(string Address, int Port)> PasvAsync(int ftpPort, string user, string password)
    {
        await using var client = await RawFtpClient.LoginAsync(ftpPort, user, password);
        var reply = await client.ExpectAsync("PASV", 227);
        var numbers = reply.Message[(reply.Message.IndexOf('(', StringComparison.Ordinal) + 1)..reply.Message.IndexOf(')', StringComparison.Ordinal)].Split(',').Select(int.Parse).ToArray();
        return (string.Join('.', numbers[..4]), (numbers[4] * 256) + numbers[5]);
    }
}

public sealed class ChartDeploymentTests
{
    [Fact]
    public async Task FileSystemScenario_ServesFtpsUsersFromTheVolume_ProbesScrapesAndDrains()
    {
        using var work = new TempDirectory();
        var chart = await HelmChart.RenderAsync("filesystem", [.. ChartScenario.Ports(out var port, out var passive), "metrics.serviceMonitor.enabled=true"]);
        await using var pod = await ChartPod.StartAsync(chart, new Dictionary<string, Dictionary<string, string>>
        {
            ["ftp-gateway-tls"] = ChartScenario.TlsSecret(work),
            ["ftp-gateway-webhook"] = new() { ["secret"] = "chart-ci-webhook-secret" },
        });

        Assert.Equal(HttpStatusCode.OK, await pod.ProbeAsync("livenessProbe"));
        Assert.Equal(HttpStatusCode.OK, await pod.ProbeAsync("readinessProbe"));

        // The camera (WriteOnly, rooted at /cameras/cam01) uploads over FTPS; the file lands on the volume.
        var photo = Path.Combine(work.Path, "photo.jpg");
        await File.WriteAllBytesAsync(photo, RandomNumberGenerator.GetBytes(700_000));
        await ChartScenario.CurlAsync("--ssl-reqd", "-k", "--ftp-create-dirs", "-T", photo, $"ftp://cam01:chart-ci-camera@127.0.0.1:{port}/2026/11/photo.jpg");
        var stored = Path.Combine(pod.Volume("data"), "cameras", "cam01", "2026", "11", "photo.jpg");
        Assert.Equal(await File.ReadAllBytesAsync(photo), await File.ReadAllBytesAsync(stored));

        // The reader (ReadOnly, rooted at /cameras) downloads it, and may not upload.
        var back = Path.Combine(work.Path, "back.jpg");
        await ChartScenario.CurlAsync("--ssl-reqd", "-k", "-o", back, $"ftp://reader:chart-ci-reader@127.0.0.1:{port}/cam01/2026/11/photo.jpg");
        Assert.Equal(await File.ReadAllBytesAsync(photo), await File.ReadAllBytesAsync(back));
        var refused = await ExternalProcess.RunAsync(ExternalProcess.Require("curl"), ["-sS", "--ssl-reqd", "-k", "-T", photo, $"ftp://reader:chart-ci-reader@127.0.0.1:{port}/cam01/nope.jpg"]);
        Assert.NotEqual(0, refused.ExitCode);

        // Passive ports come from the chart's range (the one the Service exposes).
        var (_, dataPort) = await ChartScenario.PasvAsync(port, "reader", "chart-ci-reader");
        Assert.InRange(dataPort, passive, passive + 4);

        // Prometheus, scraping as the ServiceMonitor says, sees the upload; the logs are JSON (Logging__Format=json).
        var metrics = await pod.ScrapeAsync();
        Assert.Contains("ftpgateway_transfer_bytes", metrics, StringComparison.Ordinal);
        Assert.Contains(pod.Output.Split('\n'), l => l.StartsWith('{') && JsonDocument.Parse(l).RootElement.GetProperty("Message").GetString()!.Contains("logged in", StringComparison.Ordinal));

        Assert.Equal(0, await pod.TerminateAsync());
    }
}

[Collection("S3")]
public sealed class ChartS3DeploymentTests(S3StoreFixture s3)
{
    [Fact]
    public async Task S3Scenario_StoresUploadsUnderThePrefix_AnnouncesThePublicAddress_AndDrains()
    {
        using var work = new TempDirectory();
        var unreachableCollector = FreePorts.One();
        var chart = await HelmChart.RenderAsync("s3",
        [
            .. ChartScenario.Ports(out var port, out var passive),
            $"storage.s3.serviceUrl={s3.Server.ServiceUrl}", $"storage.s3.bucket={S3StoreFixture.Bucket}",
            $"storage.s3.accessKey={RadosGateway.AccessKey}", $"storage.s3.secretKey={RadosGateway.SecretKey}",
            "ftp.passive.publicAddress=127.0.0.1",
            $"telemetry.otlpEndpoint=http://127.0.0.1:{unreachableCollector}", // traces on, collector down: transfers must not care
        ]);
        await using var pod = await ChartPod.StartAsync(chart);
        Assert.Equal(HttpStatusCode.OK, await pod.ProbeAsync("readinessProbe"));

        var file = Path.Combine(work.Path, "scan.pdf");
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        await File.WriteAllBytesAsync(file, content);
        var folder = "chart-" + Guid.NewGuid().ToString("N")[..8];
        await ChartScenario.CurlAsync("--ftp-create-dirs", "-T", file, $"ftp://cam01:chart-ci-camera@127.0.0.1:{port}/{folder}/scan.pdf");

        using var stored = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, $"devices/{folder}/scan.pdf");
        using var read = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(read);
        Assert.Equal(content, read.ToArray());

        // cam02 comes from the users file the chart mounts from its own Secret.
        await ChartScenario.CurlAsync("-T", file, $"ftp://cam02:chart-ci-reader@127.0.0.1:{port}/scan.pdf");
        using var fromFile = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, "devices/cameras/cam02/scan.pdf");
        Assert.Equal(content.Length, fromFile.ContentLength);

        var (address, dataPort) = await ChartScenario.PasvAsync(port, "cam01", "chart-ci-camera");
        Assert.Equal("127.0.0.1", address);
        Assert.InRange(dataPort, passive, passive + 4);
        Assert.Contains("ftpgateway_storage_duration", await pod.ScrapeAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await pod.TerminateAsync());
    }
}

[Collection("Azure")]
public sealed class ChartAzureDeploymentTests(AzureStoreFixture azure)
{
    [Fact]
    public async Task AzureScenario_WithExistingSecrets_RequiresFtps_AndStoresBlobs()
    {
        using var work = new TempDirectory();
        var chart = await HelmChart.RenderAsync("azure", [.. ChartScenario.Ports(out var port, out _, nodePorts: true), $"storage.azureBlob.container={AzureStoreFixture.ContainerName}"]);

        // The Secrets an operator creates before installing (the scenario names them; the chart does not make them).
        var secrets = new Dictionary<string, Dictionary<string, string>>
        {
            ["ftp-gateway-users"] = new() { ["Users__0__Name"] = "plc7", ["Users__0__PasswordHash"] = PasswordHasher.Hash("plc7-pw", 10_000), ["Users__0__Root"] = "/plc7" },
            ["ftp-gateway-azure"] = new() { ["connectionString"] = azure.Server.ConnectionString },
            ["ftp-gateway-tls"] = ChartScenario.TlsSecret(work),
        };
        await using var pod = await ChartPod.StartAsync(chart, secrets);
        Assert.Equal(HttpStatusCode.OK, await pod.ProbeAsync("readinessProbe"));

        await using (var clear = await RawFtpClient.ConnectAsync(port))
        {
            await clear.ExpectAsync("USER plc7", 530); // FTPS required: no login in the clear
        }

        var file = Path.Combine(work.Path, "batch.csv");
        var content = RandomNumberGenerator.GetBytes(1_500_000);
        await File.WriteAllBytesAsync(file, content);
        var name = "chart-" + Guid.NewGuid().ToString("N")[..8] + ".csv";
        await ChartScenario.CurlAsync("--ssl-reqd", "-k", "-T", file, $"ftp://plc7:plc7-pw@127.0.0.1:{port}/{name}");

        var blob = await azure.Container.GetBlobClient($"plc7/{name}").DownloadContentAsync();
        Assert.Equal(content, blob.Value.Content.ToArray());
        Assert.Contains("dbug: ", pod.Output, StringComparison.Ordinal); // logging.level Debug, logging.format plain
        Assert.Equal(0, await pod.TerminateAsync());
    }
}

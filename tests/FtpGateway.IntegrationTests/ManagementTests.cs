using System.Net;
using System.Text.RegularExpressions;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Tests that read process-wide metrics. OpenTelemetry's MeterProvider listens to every Meter named
/// "FtpGateway" in the process, so gateways started by tests running in parallel would add to the counts here
/// (in production there is one gateway per process).
/// </summary>
[CollectionDefinition("Alone", DisableParallelization = true)]
public sealed class AloneTests;

/// <summary>The management endpoint over real HTTP: liveness, readiness, Prometheus metrics.</summary>
[Collection("Alone")]
public sealed partial class ManagementTests : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };
    private Gateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await Gateway.StartAsync();

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _http.Dispose();
    }

    private Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(new Uri(_gateway.ManagementUrl, path));

    [Fact]
    public async Task Healthz_And_Readyz_Answer200_OnTheirOwnPort()
    {
        Assert.NotEqual(_gateway.Port, _gateway.ManagementUrl.Port);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/healthz")).StatusCode);
        var ready = await GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", (await ready.Content.ReadAsStringAsync()).Trim());
    }

    [Fact]
    public async Task Readyz_TurnsUnready_WhenAReadinessTargetDoesNotAnswer()
    {
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?> { ["Management:ReadinessTargets:0"] = "default" });
        Directory.Delete(gateway.Root.Path, recursive: true); // the local disk provider's probe fails now
        var ready = await _http.GetAsync(new Uri(gateway.ManagementUrl, "/readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("storage FileSystem", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri(gateway.ManagementUrl, "/healthz"))).StatusCode); // alive all the same
    }

    [Fact]
    public async Task OneCustomersStoreGoingAway_TurnsItsGaugeTo0_AndLeavesThePodReady()
    {
        // Regression: with target a down, /readyz answered 503 although target b still took uploads.
        using var a = new TempDirectory();
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Targets:customer-a:Provider"] = "FileSystem",
            ["Storage:Targets:customer-a:FileSystem:Root"] = a.Path,
            ["Management:StorageProbeInterval"] = "00:00:01",
        });
        Directory.Delete(a.Path, recursive: true);
        await Poll.UntilAsync(
            async () => (await _http.GetStringAsync(new Uri(gateway.ManagementUrl, "/metrics"))).Split('\n').Any(l => l.StartsWith("ftpgateway_storage_available{", StringComparison.Ordinal) && l.EndsWith("storage_target=\"customer-a\"} 0", StringComparison.Ordinal)),
            "customer-a's gauge to fall to 0");
        Assert.Contains((await _http.GetStringAsync(new Uri(gateway.ManagementUrl, "/metrics"))).Split('\n'), l => l.StartsWith("ftpgateway_storage_available{", StringComparison.Ordinal) && l.EndsWith("storage_target=\"default\"} 1", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri(gateway.ManagementUrl, "/readyz"))).StatusCode);
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        Assert.Equal(226, (await c.UploadAsync("STOR still.jpg", [1])).Code); // the default target's users go on
    }

    [Fact]
    public async Task PerUserSeries_AreBounded_TheLongestSilentUserMakesRoom()
    {
        // Regression: the per-user series were never pruned: one per device name ever seen, for the life of the process.
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?>
        {
            ["Telemetry:PerUserMetrics"] = "true",
            ["Telemetry:PerUserMetricsMaxUsers"] = "2",
            ["Users:1:Name"] = "cam-b",
            ["Users:1:Password"] = "pw-b",
            ["Users:2:Name"] = "cam-c",
            ["Users:2:Password"] = "pw-c",
        });
        async Task UploadAsync(string user, string password)
        {
            await using var c = await RawFtpClient.LoginAsync(gateway.Port, user, password);
            Assert.Equal(226, (await c.UploadAsync($"STOR {user}.jpg", [1, 2, 3])).Code);
        }

        async Task<List<string>> ScrapedUsersAsync() =>
            [.. UserSeries().Matches(await _http.GetStringAsync(new Uri(gateway.ManagementUrl, "/metrics"))).Select(m => m.Groups[1].Value).Distinct().Order(StringComparer.Ordinal)];

        await UploadAsync(Gateway.User, Gateway.Password);
        await UploadAsync("cam-b", "pw-b");
        Assert.Equal(["cam-b", Gateway.User], await ScrapedUsersAsync());
        await UploadAsync("cam-c", "pw-c");
        List<string> users = [];
        await Poll.UntilAsync(async () => (users = await ScrapedUsersAsync()).Contains("cam-c"), "a scrape after the third upload"); // the exporter caches a scrape briefly
        Assert.Equal(["cam-b", "cam-c"], users); // the exported series goes too
    }

    [GeneratedRegex("""ftpgateway_user_uploads_total\{[^}]*enduser_id="([^"]+)"[^}]*\}""")]
    private static partial Regex UserSeries();

    [Fact]
    public async Task Metrics_AfterRealTransfers_CountTheRightAmounts()
    {
        await using (var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password))
        {
            Assert.Equal(226, (await c.UploadAsync("STOR counted.bin", new byte[12345])).Code);
            Assert.Equal(12345, (await c.DownloadAsync("RETR counted.bin")).Data.Length);
            await c.ExpectAsync("QUIT", 221);
        }

        await using (var bad = await RawFtpClient.ConnectAsync(_gateway.Port))
        {
            await bad.ExpectAsync("USER " + Gateway.User, 331);
            await bad.ExpectAsync("PASS wrong", 530);
        }

        var text = string.Empty;
        await Poll.UntilAsync(
            async () => (text = await (await GetAsync("/metrics")).Content.ReadAsStringAsync()).Contains("ftpgateway_logins_failed", StringComparison.Ordinal),
            "the scrape to show the failed login"); // the exporter caches a scrape briefly
        Assert.Equal(12345, Value(text, "ftpgateway_transfer_bytes", "ftp_transfer_direction=\"upload\""));
        Assert.Equal(12345, Value(text, "ftpgateway_transfer_bytes", "ftp_transfer_direction=\"download\""));
        Assert.Equal(1, Value(text, "ftpgateway_logins_failed", string.Empty));
        Assert.Equal(1, Value(text, "ftpgateway_commands", "ftp_command=\"STOR\""));
        Assert.DoesNotContain("wrong", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Gateway.Password, text, StringComparison.Ordinal);
    }

    /// <summary>The value of the one sample of <paramref name="metric"/> (any suffix) whose labels contain <paramref name="label"/>.</summary>
    private static double Value(string exposition, string metric, string label)
    {
        var line = exposition.Split('\n').Single(l => l.StartsWith(metric, StringComparison.Ordinal) && !l.StartsWith('#') && l.Contains(label, StringComparison.Ordinal) && Sample().IsMatch(l));
        return double.Parse(Sample().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"\}?\s([0-9.eE+-]+)(\s\d+)?$")]
    private static partial Regex Sample();
}

using System.Text.Json;
using System.Text.RegularExpressions;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>The Grafana dashboard queries only metrics and labels the gateway really exposes.</summary>
[Collection("Alone")]
public sealed partial class DashboardTests
{
    [Fact]
    public async Task EveryMetricAndGroupingLabelTheDashboardUses_IsInARealScrape()
    {
        var dashboard = TestTools.RepositoryPath(Path.Combine("charts", "ftp-gateway", "dashboards", "ftp-gateway.json"));
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(dashboard));
        var expressions = json.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList();
        Assert.NotEmpty(expressions);

        // A session that moves every metric: transfers both ways, a failed login, a data connection that cannot open
        // (active mode to a port where nothing listens).
        await using var gateway = await Gateway.StartAsync();
        await using (var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password))
        {
            Assert.Equal(226, (await c.UploadAsync("STOR d.bin", new byte[100])).Code);
            Assert.Equal(100, (await c.DownloadAsync("RETR d.bin")).Data.Length);
            var closed = FreePorts.One();
            await c.ExpectAsync($"PORT 127,0,0,1,{closed >> 8},{closed & 0xFF}", 200);
            await c.ExpectAsync("RETR d.bin", 150);
            Assert.Equal(425, (await c.ReadReplyAsync()).Code);
            await c.ExpectAsync("QUIT", 221);
        }

        await using (var bad = await RawFtpClient.ConnectAsync(gateway.Port))
        {
            await bad.ExpectAsync("USER " + Gateway.User, 331);
            await bad.ExpectAsync("PASS wrong", 530);
        }

        using var http = new HttpClient();
        var scrape = string.Empty;
        await Poll.UntilAsync(
            async () => (scrape = await http.GetStringAsync(new Uri(gateway.ManagementUrl, "/metrics"))).Contains("ftpgateway_logins_failed", StringComparison.Ordinal),
            "the scrape to show the failed login"); // the exporter caches a scrape briefly
        // Histogram buckets fit what they measure (seconds): storage calls from 1 ms, transfers up to an hour.
        Assert.Contains("ftpgateway_storage_duration_seconds_bucket{", scrape, StringComparison.Ordinal);
        Assert.Matches(@"ftpgateway_storage_duration_seconds_bucket\{[^}]*le=""0\.001""", scrape);
        Assert.Matches(@"ftpgateway_transfer_duration_seconds_bucket\{[^}]*le=""3600""", scrape);
        Assert.DoesNotMatch(@"ftpgateway_storage_duration_seconds_bucket\{[^}]*le=""10000""", scrape);

        var exposed = scrape.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => MetricName().Match(l).Value).ToHashSet();

        foreach (var metric in expressions.SelectMany(e => Metric().Matches(e).Select(m => m.Value)).Distinct())
        {
            Assert.True(exposed.Contains(metric), $"the dashboard queries '{metric}', which /metrics does not expose");
        }

        foreach (var label in expressions.SelectMany(e => By().Matches(e).SelectMany(m => m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries))).Distinct().Where(l => l != "le"))
        {
            Assert.True(scrape.Contains(label + "=\"", StringComparison.Ordinal), $"the dashboard groups by '{label}', which no series has");
        }
    }

    [GeneratedRegex(@"\bftpgateway_[a-z_]+")]
    private static partial Regex Metric();

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"by \(([^)]*)\)")]
    private static partial Regex By();
}

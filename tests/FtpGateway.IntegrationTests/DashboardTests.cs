using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// A gateway with everything the dashboard shows switched on: two storage targets (two customers), a users file,
/// FTPS, a webhook, the fleet's shared state in Redis and the relay. What the dashboard and Prometheus tests run.
/// </summary>
internal sealed class DashboardGateway : IAsyncDisposable
{
    public const string SecondUser = "cust-b";
    public const string SecondPassword = "cust-b-pw";

    private readonly TempDirectory _work;
    private readonly RedisServer _redis;
    private readonly LoopbackHttpServer _webhook;

    private DashboardGateway(Gateway gateway, TempDirectory work, RedisServer redis, LoopbackHttpServer webhook)
    {
        Gateway = gateway;
        _work = work;
        _redis = redis;
        _webhook = webhook;
    }

    public Gateway Gateway { get; }

    public static async Task<DashboardGateway> StartAsync(IDictionary<string, string?>? extra = null)
    {
        var work = new TempDirectory();
        var redis = await RedisServer.StartAsync();
        var webhook = new LoopbackHttpServer("events", async context =>
        {
            context.Response.StatusCode = (int)HttpStatusCode.NoContent;
            await context.Response.OutputStream.FlushAsync();
        });
        var tls = TestCertificates.CreateTlsFiles(work.Path);
        await File.WriteAllTextAsync(work.File("users.json"), """{ "users": [ { "name": "from-file", "password": "from-file-pw" } ] }""");
        Directory.CreateDirectory(work.File("customer-b"));
        var passive = FreePorts.Range(10);
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Targets:customer-b:Provider"] = "FileSystem",
            ["Storage:Targets:customer-b:FileSystem:Root"] = work.File("customer-b"),
            ["Users:1:Name"] = SecondUser,
            ["Users:1:Password"] = SecondPassword,
            ["Users:1:Storage"] = "customer-b",
            ["Users:File"] = work.File("users.json"),
            ["Ftp:Tls:CertificatePath"] = tls.Certificate,
            ["Ftp:Tls:KeyPath"] = tls.Key,
            ["Events:Webhooks:0:Url"] = webhook.Url,
            ["State:Redis:Configuration"] = redis.Configuration,
            ["Ftp:Replica"] = "gw-0",
            ["Ftp:PassivePortRange"] = $"{passive}-{passive + 9}",
            ["Ftp:PassivePortsPerReplica"] = "10",
            ["Ftp:Relay:Enabled"] = "true",
            ["Ftp:Relay:Secret"] = "a-dashboard-test-relay-secret",
            ["Ftp:Relay:Port"] = FreePorts.One().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Ftp:Relay:PeerAddresses:0"] = "127.0.0.1",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return new DashboardGateway(await Gateway.StartAsync(settings), work, redis, webhook);
    }

    /// <summary>Every expression of the dashboard's panels, with its panel's title; the variables at "All".</summary>
    public static async Task<List<(string Panel, string Expr)>> QueriesAsync()
    {
        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(HelmChart.Directory, "dashboards", "ftp-gateway.json"))).RootElement;
        return [.. dashboard.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (Panel: p.GetProperty("title").GetString()!, Expr: AllValues(t.GetProperty("expr").GetString()!))))];
    }

    /// <summary>What Grafana sends with every variable at "All" (allValue .*).</summary>
    public static string AllValues(string expr) => Regex.Replace(expr, @"\$(job|namespace|instance|storage_target)\b", ".*");

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await _webhook.DisposeAsync();
        await _redis.DisposeAsync();
        _work.Dispose();
    }
}

/// <summary>The Grafana dashboard queries only metrics and labels the gateway really exposes.</summary>
[Collection("Alone")]
public sealed partial class DashboardTests
{
    [Fact]
    public async Task BeforeAnyTraffic_TheCountersThePanelsShow_AreExportedAtZero()
    {
        await using var dashboard = await DashboardGateway.StartAsync();
        using var http = new HttpClient();
        var scrape = await http.GetStringAsync(new Uri(dashboard.Gateway.ManagementUrl, "/metrics"));
        foreach (var (series, label) in new[]
        {
            ("ftpgateway_logins_failed_total", ""), ("ftpgateway_bans_total", ""), ("ftpgateway_data_connections_failed_total", ""), ("ftpgateway_users_reload_failures_total", ""),
            ("ftpgateway_connections_refused_total", "ftp_refusal=\"banned\""), ("ftpgateway_connections_refused_total", "ftp_refusal=\"address_limit\""),
            ("ftpgateway_events_dropped_total", "reason=\"max_age\""), ("ftpgateway_events_failed_attempts_total", ""), ("ftpgateway_relay_bytes_total", ""),
            ("ftpgateway_relay_connections_total", "outcome=\"refused\""),
        })
        {
            Assert.True(
                Regex.IsMatch(scrape, $@"^{series}\{{[^}}]*{Regex.Escape(label)}[^}}]*\}} 0\b", RegexOptions.Multiline),
                $"{series} {label} is not exported at 0 before any traffic");
        }

        // Each storage target's bytes, both ways, at 0: the per-target panels have a line for every customer.
        foreach (var target in new[] { "default", "customer-b" })
        {
            Assert.Matches($@"ftpgateway_transfer_bytes_total\{{[^}}]*storage_target=""{target}""[^}}]*\}} 0", scrape);
        }
    }

    [Fact]
    public async Task EveryMetricAndGroupingLabelTheDashboardUses_IsInARealScrape()
    {
        var expressions = (await DashboardGateway.QueriesAsync()).Select(q => q.Expr).ToList();
        Assert.NotEmpty(expressions);

        // A session that moves every metric: transfers both ways, a failed login, a data connection that cannot open
        // (active mode to a port where nothing listens).
        await using var dashboard = await DashboardGateway.StartAsync();
        var gateway = dashboard.Gateway;
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
            async () => (scrape = await http.GetStringAsync(new Uri(gateway.ManagementUrl, "/metrics"))).Split('\n').Any(l => l.StartsWith("ftpgateway_logins_failed_total{", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal)),
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

        // Labels Prometheus adds itself (job, instance; namespace under the Prometheus Operator) are not in the scrape.
        foreach (var label in expressions.SelectMany(e => By().Matches(e).SelectMany(m => m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries))).Distinct().Where(l => l is not "le" and not "instance" and not "job" and not "namespace"))
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

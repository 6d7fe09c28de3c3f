using System.Globalization;
using System.Text.Json;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// A real Prometheus (Debian's package) scraping a real gateway under live traffic: every dashboard panel's query
/// returns data and the latency panels show plausible local-disk figures; the chart's alert rules pass promtool and
/// evaluate without error. (Debian's Prometheus, 2.42, predates its OTLP receiver, and Debian packages no other
/// OTLP receiver: the OTLP path is covered by the in-process exporter tests.)
/// </summary>
[Collection("Alone")]
public sealed class PrometheusTests
{
    private static readonly HttpClient Http = new();

    private static async Task<JsonElement> QueryAsync(int port, string query)
    {
        var json = await Http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/api/v1/query?query={Uri.EscapeDataString(query)}"));
        var root = JsonDocument.Parse(json).RootElement;
        Assert.True(root.GetProperty("status").GetString() == "success", $"{query}: {json}");
        return root.GetProperty("data").GetProperty("result");
    }

    /// <summary>Keeps every metric moving: transfers both ways, failures of each kind, until cancelled.</summary>
    private static async Task TrafficAsync(Gateway gateway, CancellationToken ct)
    {
        var round = 0;
        var closed = FreePorts.One(); // nothing listens there
        while (!ct.IsCancellationRequested)
        {
            await using (var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password))
            {
                Assert.Equal(226, (await c.UploadAsync($"STOR m{round}.bin", new byte[20_000])).Code);
                Assert.Equal(20_000, (await c.DownloadAsync($"RETR m{round}.bin")).Data.Length);
                Assert.Equal(550, (await c.DownloadAsync("RETR missing.bin")).Final.Code);
                await c.ExpectAsync("MKD seen", round == 0 ? 257 : 550); // a storage call that fails (AlreadyExists)
                await c.ExpectAsync($"PORT 127,0,0,1,{closed >> 8},{closed & 0xFF}", 200);
                await c.ExpectAsync($"RETR m{round}.bin", 150);
                Assert.Equal(425, (await c.ReadReplyAsync()).Code);
                await c.ExpectAsync("EPSV", 229); // a passive port held while the session idles a moment
                await c.ExpectAsync("QUIT", 221);
            }

            await using (var bad = await RawFtpClient.ConnectAsync(gateway.Port))
            {
                await bad.ExpectAsync("USER " + Gateway.User, 331);
                await bad.ExpectAsync("PASS wrong", 530);
            }

            // The second customer, on its own storage target.
            await using (var b = await RawFtpClient.LoginAsync(gateway.Port, DashboardGateway.SecondUser, DashboardGateway.SecondPassword))
            {
                Assert.Equal(226, (await b.UploadAsync($"STOR b{round}.bin", new byte[30_000])).Code);
                Assert.Equal(30_000, (await b.DownloadAsync($"RETR b{round}.bin")).Data.Length);
            }

            round++;
            await Task.Delay(200, CancellationToken.None);
        }
    }

    private static async Task<ExternalProcess.Result> PromtoolAsync(params string[] args) =>
        await ExternalProcess.RunAsync(ExternalProcess.Require("promtool"), args);

    [Fact]
    public async Task ARealPrometheus_AnswersEveryDashboardPanel_AndEvaluatesTheAlertRules()
    {
        using var work = new TempDirectory();
        await using var dashboardGateway = await DashboardGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Telemetry:PerUserMetrics"] = "true",
            ["Security:Bans:Enabled"] = "false",
        });
        var gateway = dashboardGateway.Gateway;

        // The chart's PrometheusRule, as rendered, becomes a rule file; promtool must accept it.
        var chart = await HelmChart.RenderAsync("s3");
        var rules = chart.Get("PrometheusRule").GetProperty("spec");
        var ruleFile = work.File("rules.json"); // JSON is YAML
        await File.WriteAllTextAsync(ruleFile, rules.GetRawText());
        var check = await PromtoolAsync("check", "rules", ruleFile);
        Assert.True(check.ExitCode == 0, check.ToString());

        var job = HelmChart.FullName + "-management";
        var port = FreePorts.One();
        await File.WriteAllTextAsync(work.File("prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: ["{ruleFile}"]
            scrape_configs:
              - job_name: {job}
                static_configs:
                  - targets: ["{gateway.ManagementUrl.Authority}"]
            """);
        await using var prometheus = await ExternalProcess.StartAsync(ExternalProcess.Require("prometheus"),
        [
            $"--config.file={work.File("prometheus.yml")}", $"--storage.tsdb.path={work.File("data")}",
            $"--web.listen-address=127.0.0.1:{port}",
        ]);

        await Poll.UntilAsync(
            async () =>
            {
                try
                {
                    return (await Http.GetAsync(new Uri($"http://127.0.0.1:{port}/-/ready"))).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false; // not listening yet
                }
            },
            "Prometheus to be ready");

        using var traffic = new CancellationTokenSource();
        var load = TrafficAsync(gateway, traffic.Token);
        try
        {
            var queries = await DashboardGateway.QueriesAsync();
            var empty = queries.Select(q => q.Panel).ToList();
            try
            {
                await Poll.UntilAsync(
                async () =>
                {
                    empty = [];
                    foreach (var (panel, expr) in queries)
                    {
                        if ((await QueryAsync(port, expr)).GetArrayLength() == 0)
                        {
                            empty.Add(panel);
                        }
                    }

                    return empty.Count == 0 || load.IsFaulted;
                },
                "every dashboard panel to show data",
                TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                Assert.Fail($"panels without data: {string.Join("; ", empty)}\nprometheus:\n{prometheus.Output[^Math.Min(3000, prometheus.Output.Length)..]}");
            }

            if (load.IsFaulted)
            {
                await load; // the traffic's own failure, with its message
            }

            Assert.Empty(empty);

            // Local-disk storage calls take milliseconds: the p95 panel must say so (it said 4.75 s with ms buckets).
            foreach (var series in (await QueryAsync(port, queries.Single(q => q.Panel.StartsWith("Storage latency", StringComparison.Ordinal)).Expr)).EnumerateArray())
            {
                var value = series.GetProperty("value")[1].GetString()!;
                if (value != "NaN")
                {
                    Assert.InRange(double.Parse(value, CultureInfo.InvariantCulture), 0, 0.5);
                }
            }

            // The per-target panels tell the two customers apart.
            foreach (var panel in new[] { "Throughput by target and direction", "Transfer duration p95 by target and direction", "Storage latency p95 by target and operation" })
            {
                var targets = (await QueryAsync(port, queries.First(q => q.Panel == panel).Expr)).EnumerateArray()
                    .Select(s => s.GetProperty("metric").GetProperty("storage_target").GetString()).ToHashSet();
                Assert.True(targets.SetEquals(["default", "customer-b"]), $"{panel}: {string.Join(", ", targets)}");
            }

            // One customer picked in the dashboard: only its series.
            var throughput = queries.First(q => q.Panel == "Throughput by target and direction").Expr;
            var picked = (await QueryAsync(port, throughput.Replace("storage_target=~\".*\"", "storage_target=~\"customer-b\"", StringComparison.Ordinal))).EnumerateArray()
                .Select(s => s.GetProperty("metric").GetProperty("storage_target").GetString()).Distinct().ToList();
            Assert.Equal(["customer-b"], picked);

            // Per-user metrics feed the device-silence alert.
            Assert.NotEqual(0, (await QueryAsync(port, $"ftpgateway_user_last_upload_time_seconds{{enduser_id=\"{Gateway.User}\"}}")).GetArrayLength());

            // Every rule evaluates without error against the live series.
            await Poll.UntilAsync(
                async () =>
                {
                    var groups = JsonDocument.Parse(await Http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/api/v1/rules"))).RootElement
                        .GetProperty("data").GetProperty("groups");
                    var evaluated = groups.EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
                    Assert.All(evaluated, r => Assert.NotEqual("err", r.GetProperty("health").GetString()));
                    return evaluated.Count > 0 && evaluated.All(r => r.GetProperty("health").GetString() == "ok");
                },
                "the rules evaluated");
        }
        finally
        {
            await traffic.CancelAsync();
            await load;
        }
    }
}

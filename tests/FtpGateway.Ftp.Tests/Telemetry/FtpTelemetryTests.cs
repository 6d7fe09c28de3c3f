using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Storage;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Telemetry;

/// <summary>The span tree and metrics of real sessions, collected with the runtime's own listeners.</summary>
public sealed class FtpTelemetryTests : IDisposable
{
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ActivityListener _listener;

    public FtpTelemetryTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FtpTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>
    /// The spans of the session served on <paramref name="port"/> (other tests run in parallel): the session's
    /// own span, and every trace whose root links to it (one per command, with the transfer it starts).
    /// </summary>
    private async Task<List<Activity>> SessionSpansAsync(int port)
    {
        Activity? root = null;
        await Poll.UntilAsync(
            () => (root = _spans.FirstOrDefault(a => a.OperationName == "ftp.session" && Equals(a.GetTagItem("server.port"), port))) is not null,
            "the session span");
        var traces = _spans.Where(a => a.Links.Any(l => l.Context.SpanId == root!.SpanId)).Select(a => a.TraceId).Append(root!.TraceId).ToHashSet();
        return _spans.Where(a => traces.Contains(a.TraceId)).ToList();
    }

    [Fact]
    public async Task ASession_IsATreeOfCommandTransferAndStorageSpans_WithoutThePassword()
    {
        await using var server = await TestServer.StartAsync();
        await using (var c = await RawFtpClient.LoginAsync(server.Port))
        {
            await c.ExpectAsync("MKD traced", 257);
            Assert.Equal(226, (await c.UploadAsync("STOR traced/f.bin", new byte[12345])).Code);
            await c.ExpectAsync("QUIT", 221);
        }

        var spans = await SessionSpansAsync(server.Port);
        var session = spans.Single(a => a.OperationName == "ftp.session");
        Assert.Equal(ActivityKind.Server, session.Kind);
        Assert.Equal("127.0.0.1", session.GetTagItem("client.address"));
        Assert.Equal("tcp", session.GetTagItem("network.transport"));
        Assert.Equal(TestServer.UserName, session.GetTagItem("enduser.id"));
        Assert.Equal("ClientQuit", session.GetTagItem("ftp.session.end_reason"));

        // Each command is its own small trace, linked to the session and carrying the session, user and client.
        var stor = spans.Single(a => a.OperationName == "ftp STOR");
        Assert.Equal(default, stor.ParentSpanId);
        Assert.NotEqual(session.TraceId, stor.TraceId);
        Assert.Contains(stor.Links, l => l.Context.SpanId == session.SpanId);
        Assert.Equal(session.GetTagItem("ftp.session.id"), stor.GetTagItem("ftp.session.id"));
        Assert.Equal(TestServer.UserName, stor.GetTagItem("enduser.id"));
        Assert.Equal("127.0.0.1", stor.GetTagItem("client.address"));
        Assert.Equal("traced/f.bin", stor.GetTagItem("ftp.argument"));
        Assert.Equal(150, stor.GetTagItem("ftp.reply_code"));

        var transfer = spans.Single(a => a.OperationName == "ftp.transfer STOR");
        Assert.Equal(stor.SpanId, transfer.ParentSpanId);
        Assert.Equal(12345L, transfer.GetTagItem("ftp.transfer.bytes"));
        Assert.Equal("upload", transfer.GetTagItem("ftp.transfer.direction"));
        Assert.Equal(ActivityStatusCode.Unset, transfer.Status);

        var upload = spans.Single(a => a.OperationName == "storage upload");
        Assert.Equal(transfer.SpanId, upload.ParentSpanId);
        Assert.Equal(ActivityKind.Client, upload.Kind);
        Assert.Equal("FileSystem", upload.GetTagItem("storage.provider"));
        Assert.Contains(spans, a => a.OperationName == "storage create_directory" && a.ParentSpanId == spans.Single(s => s.OperationName == "ftp MKD").SpanId);

        // PASS is a span (its reply code matters) but its argument is never recorded, anywhere.
        var pass = spans.Single(a => a.OperationName == "ftp PASS");
        Assert.Null(pass.GetTagItem("ftp.argument"));
        Assert.DoesNotContain(spans.SelectMany(a => a.TagObjects), t => t.Value?.ToString()?.Contains(TestServer.Password, StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task AbortedAndFailedTransfers_AreMarkedAsErrors()
    {
        await using var server = await TestServer.StartAsync(wrap: s => new FaultyStorage(s) { FailUploads = (1000, StorageErrorKind.Unavailable) });
        File.WriteAllBytes(server.Root.File("big.bin"), new byte[32 * 1024 * 1024]);
        await using (var c = await RawFtpClient.LoginAsync(server.Port))
        {
            Assert.Equal(451, (await c.UploadAsync("STOR failing.bin", new byte[5000])).Code);
            using var data = await c.OpenPassiveAsync();
            await c.ExpectAsync("RETR big.bin", 150);
            await data.ReceiveAsync(new byte[1024]);
            await c.SendRawAsync("ABOR\r\n"u8.ToArray());
            Assert.Equal(426, (await c.ReadReplyAsync()).Code);
            Assert.Equal(226, (await c.ReadReplyAsync()).Code);
            await c.ExpectAsync("QUIT", 221);
        }

        var spans = await SessionSpansAsync(server.Port);
        var failed = spans.Single(a => a.OperationName == "ftp.transfer STOR");
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Equal("Unavailable", failed.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, spans.Single(a => a.OperationName == "storage upload").Status);
        var aborted = spans.Single(a => a.OperationName == "ftp.transfer RETR");
        Assert.Equal(ActivityStatusCode.Error, aborted.Status);
        Assert.Equal(true, aborted.GetTagItem("ftp.transfer.aborted"));
        Assert.Equal("Aborted", aborted.GetTagItem("error.type"));
    }

    [Fact]
    public async Task Metrics_CountSessionsCommandsBytesAndLoginFailures()
    {
        using var telemetry = new FtpTelemetry();
        var longs = new ConcurrentDictionary<string, long>();
        var histograms = new ConcurrentDictionary<string, int>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == telemetry.Meter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name + string.Concat(tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"|{t.Key}={t.Value}"));
            longs.AddOrUpdate(key, value, (_, v) => v + value);
        });
        meters.SetMeasurementEventCallback<double>((instrument, _, _, _) => histograms.AddOrUpdate(instrument.Name, 1, (_, n) => n + 1));
        meters.Start();

        await using (var server = await TestServer.StartAsync(telemetry: telemetry))
        {
            await using (var bad = await RawFtpClient.ConnectAsync(server.Port))
            {
                await bad.ExpectAsync("USER alice", 331);
                await bad.ExpectAsync("PASS nope", 530);
            }

            await using var c = await RawFtpClient.LoginAsync(server.Port);
            Assert.Equal(226, (await c.UploadAsync("STOR m.bin", new byte[7000])).Code);
            Assert.Equal(7000, (await c.DownloadAsync("RETR m.bin")).Data.Length);
            await c.ExpectAsync("BOGUS", 500);
            await c.ExpectAsync("QUIT", 221);
            await Poll.UntilAsync(() => longs.GetValueOrDefault("ftpgateway.sessions|ftp.session.end_reason=ClientQuit") > 0, "the session to end");
        }

        Assert.Equal(1, longs.GetValueOrDefault("ftpgateway.logins.failed"));
        Assert.Equal(7000, longs.GetValueOrDefault("ftpgateway.transfer.bytes|ftp.transfer.direction=upload|storage.provider=FileSystem|storage.target=default"));
        Assert.Equal(7000, longs.GetValueOrDefault("ftpgateway.transfer.bytes|ftp.transfer.direction=download|storage.provider=FileSystem|storage.target=default"));
        // Transfer commands count with their final reply (the 226), never the 150.
        Assert.Equal(1, longs.GetValueOrDefault("ftpgateway.commands|ftp.command=STOR|ftp.reply_class=2xx"));
        Assert.Equal(1, longs.GetValueOrDefault("ftpgateway.commands|ftp.command=RETR|ftp.reply_class=2xx"));
        Assert.DoesNotContain(longs.Keys, k => k.Contains("ftp.reply_class=1xx", StringComparison.Ordinal));
        Assert.Equal(1, longs.GetValueOrDefault("ftpgateway.commands|ftp.command=PASS|ftp.reply_class=5xx"));
        Assert.Equal(1, longs.GetValueOrDefault("ftpgateway.commands|ftp.command=unknown|ftp.reply_class=5xx"));
        Assert.Equal(1, longs.GetValueOrDefault("ftpgateway.sessions|ftp.session.end_reason=ClientQuit"));
        Assert.Equal(0, longs.Where(kv => kv.Key.StartsWith("ftpgateway.sessions.active", StringComparison.Ordinal)).Sum(kv => kv.Value));
        Assert.True(histograms.GetValueOrDefault("ftpgateway.transfer.duration") >= 2);
        Assert.True(histograms.GetValueOrDefault("ftpgateway.storage.duration") >= 2);
        Assert.DoesNotContain(longs.Keys, k => k.Contains("nope", StringComparison.Ordinal) || k.Contains(TestServer.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TransferCommands_AreCountedWithTheirFinalReply_SoFailedTransfersShowAsErrors()
    {
        // Regression: STOR, RETR and LIST were counted with their 150, so the error-replies panel never saw a failed transfer.
        using var telemetry = new FtpTelemetry();
        var counts = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        using var meters = new System.Diagnostics.Metrics.MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == telemetry.Meter && instrument.Name == "ftpgateway.commands")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            counts.AddOrUpdate(string.Join("|", tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Value)), value, (_, v) => v + value));
        meters.Start();

        var faulty = (FaultyStorage?)null;
        await using var server = await TestServer.StartAsync(telemetry: telemetry, wrap: s => faulty = new FaultyStorage(s));
        await using var c = await RawFtpClient.LoginAsync(server.Port);
        Assert.Equal(226, (await c.UploadAsync("STOR ok.bin", new byte[10])).Code);
        faulty!.FailUploads = (0, StorageErrorKind.Unavailable);
        Assert.Equal(451, (await c.UploadAsync("STOR failing.bin", new byte[10])).Code);
        Assert.Equal(550, (await c.DownloadAsync("RETR missing.bin")).Final.Code);
        await Poll.UntilAsync(() => counts.GetValueOrDefault("RETR|5xx") == 1, "the RETR counted"); // counted after its reply is written
        Assert.Equal(1, counts.GetValueOrDefault("STOR|2xx"));
        Assert.Equal(1, counts.GetValueOrDefault("STOR|4xx"));
        Assert.Equal(1, counts.GetValueOrDefault("RETR|5xx"));
        Assert.DoesNotContain(counts.Keys, k => k.EndsWith("|1xx", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AClientsSizeLimit_OrBrokenConnection_IsNotAStoreFailure()
    {
        // Regression: a 552 for MaxUploadBytes was recorded as a storage call with outcome "error", which the
        // critical FtpGatewayStoreFailures alert counts.
        using var telemetry = new FtpTelemetry();
        var outcomes = new ConcurrentBag<string>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == telemetry.Meter && instrument.Name == "ftpgateway.storage.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            var all = tags.ToArray();
            if (all.Any(t => t.Key == "storage.operation" && (string?)t.Value == "upload"))
            {
                outcomes.Add((string)all.Single(t => t.Key == "outcome").Value!);
            }
        });
        meters.Start();
        var users = new FtpGateway.Ftp.Users.UserDirectory(
            [new FtpGateway.Ftp.Users.UserOptions { Name = "small", Password = "pw", MaxUploadBytes = 100 }], new FtpGateway.Ftp.Users.AnonymousOptions());
        await using var server = await TestServer.StartAsync(telemetry: telemetry, users: users);
        await using var c = await RawFtpClient.LoginAsync(server.Port, "small", "pw");
        Assert.Equal(552, (await c.UploadAsync("STOR big.bin", new byte[5000])).Code);
        var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR reset.bin", 150);
        await data.SendAsync(new byte[50]);
        data.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        data.Dispose(); // a reset, not a clean end
        Assert.Equal(426, (await c.ReadReplyAsync()).Code);
        await Poll.UntilAsync(() => outcomes.Count == 2, "both uploads recorded");
        Assert.Equal(["ClientData", "SizeLimit"], outcomes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SessionIds_AreUniqueAcrossGatewaysAndRestarts()
    {
        // Regression: every process counted from 00000001, so events and audit lines of two restarts shared ids.
        var ids = new List<string>();
        for (var restart = 0; restart < 2; restart++)
        {
            var logs = new CollectingLoggerFactory();
            await using (var server = await TestServer.StartAsync(loggers: logs))
            {
                await using var c = await RawFtpClient.LoginAsync(server.Port);
                Assert.Equal(226, (await c.UploadAsync("STOR id.bin", [1])).Code);
            }

            var audit = logs.Lines.Single(l => l.Category == "FtpGateway.Audit");
            ids.Add(System.Text.RegularExpressions.Regex.Match(audit.Message, @"\(session ([^,]+),").Groups[1].Value);
        }

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{10}-[0-9a-f]{6}$", id));
        Assert.NotEqual(ids[0], ids[1]);
    }
}

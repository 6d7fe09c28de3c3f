using System.Diagnostics;
using System.Security.Cryptography;
using FtpGateway.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The storage SDKs' own calls appear in the trace under the gateway's storage span, so one upload can be
/// followed from the FTP command down to each request to the store: S3 through the AWS SDK's tracing hooks
/// (source AWSSDK.S3), Azure through the Azure SDK's activities (sources Azure.*).
/// </summary>
internal static class SdkSpans
{
    /// <summary>A gateway on <paramref name="settings"/> with tracing on (OTLP to a closed port) and spans collected.</summary>
    public static Task<Gateway> StartAsync(Dictionary<string, string?> settings, ExportedSpans spans)
    {
        settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{FreePorts.One()}";
        return Gateway.StartAsync(settings, b => b.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)));
    }

    /// <summary>
    /// Uploads, stops the host (flushing the spans) and returns this gateway's session span and the STOR's storage
    /// span. The exporter sees every gateway of the test process (an ActivitySource is process-wide), so spans are
    /// picked by this gateway's port and by parentage.
    /// </summary>
    public static async Task<(Activity Session, Activity Storage, List<Activity> Spans)> UploadAsync(Gateway gateway, ExportedSpans spans, int bytes, Func<RawFtpClient, Task>? then = null)
    {
        await using (var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password))
        {
            Assert.Equal(226, (await c.UploadAsync("STOR traced.bin", RandomNumberGenerator.GetBytes(bytes))).Code);
            if (then is not null)
            {
                await then(c);
            }

            await c.ExpectAsync("QUIT", 221);
        }

        await Poll.UntilAsync(() => gateway.Services.GetRequiredService<FtpGateway.Ftp.FtpServer>().ActiveSessions == 0, "the session to end");
        await gateway.StopAsync();
        gateway.Services.GetRequiredService<TracerProvider>().ForceFlush();
        var exported = spans.Snapshot();
        var session = exported.Single(a => a.OperationName == "ftp.session" && a.GetTagItem("server.port") is int port && port == gateway.Port);
        var transfer = exported.Single(a => a.OperationName == "ftp.transfer STOR" && InSession(a, session, exported));
        return (session, exported.Single(a => a.OperationName == "storage upload" && IsUnder(a, transfer, exported)), exported);
    }

    /// <summary>True when <paramref name="span"/>'s trace is one of the session's: its root links to the session's span.</summary>
    public static bool InSession(Activity span, Activity session, List<Activity> all)
    {
        var byId = all.ToDictionary(a => a.SpanId);
        var root = span;
        while (root.ParentSpanId != default && byId.TryGetValue(root.ParentSpanId, out var parent))
        {
            root = parent;
        }

        return root.Links.Any(l => l.Context.SpanId == session.SpanId);
    }

    public static bool IsUnder(Activity span, Activity ancestor, List<Activity> all)
    {
        var byId = all.ToDictionary(a => a.SpanId);
        for (var parent = span.ParentSpanId; parent != default; parent = byId.TryGetValue(parent, out var p) ? p.ParentSpanId : default)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }
}

[Collection("S3")]
public sealed class S3SdkSpanTests(S3StoreFixture s3)
{
    [Fact]
    public async Task EveryS3Call_OfAMultipartUpload_IsASpanUnderTheStorageSpan()
    {
        var spans = new ExportedSpans();
        var prefix = "spans-" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await SdkSpans.StartAsync(s3.GatewaySettings(prefix), spans);

        var (session, storage, exported) = await SdkSpans.UploadAsync(gateway, spans, (7 * 1024 * 1024) + 123, c => c.ExpectAsync("SIZE missing.bin", 550)); // two parts
        var sdk = exported.Where(a => a.Source.Name == "AWSSDK.S3" && SdkSpans.IsUnder(a, storage, exported)).ToList();

        // The object carries the upload's trace context: whoever holds it finds the upload that wrote it.
        var metadata = (await s3.Client.GetObjectMetadataAsync(S3StoreFixture.Bucket, $"{prefix}/traced.bin")).Metadata;
        Assert.StartsWith($"00-{storage.TraceId}-", metadata["x-amz-meta-ftpgateway-traceparent"], StringComparison.Ordinal);
        Assert.Equal(Gateway.User, metadata["x-amz-meta-ftpgateway-user"]);
        Assert.Equal("127.0.0.1", metadata["x-amz-meta-ftpgateway-client"]);
        var operations = sdk.Where(a => a.Kind == ActivityKind.Client).ToList();
        Assert.True(operations.Count > 0, "no S3 spans under the storage span; spans: " + string.Join(", ", exported.Select(a => $"{a.Source.Name}:{a.OperationName}")));
        Assert.Equal(1, operations.Count(a => a.OperationName == "S3.InitiateMultipartUpload"));
        Assert.Equal(2, operations.Count(a => a.OperationName == "S3.UploadPart"));
        Assert.Equal(1, operations.Count(a => a.OperationName == "S3.CompleteMultipartUpload"));
        Assert.All(operations, a =>
        {
            Assert.Equal("S3", a.GetTagItem("rpc.service"));
            Assert.NotNull(a.GetTagItem("aws.request_id"));
            Assert.NotEqual(ActivityStatusCode.Error, a.Status);
            // Each operation's HTTP attempt underneath it, with the status the store answered.
            Assert.Contains(sdk, h => h.OperationName == "HttpRequest" && h.ParentSpanId == a.SpanId && (int?)h.GetTagItem("http.status_code") == 200);
        });

        // A call the store refuses (HEAD of a missing object, for SIZE) is an error span naming the exception type.
        var size = exported.Single(a => a.OperationName == "ftp SIZE" && SdkSpans.InSession(a, session, exported));
        var refused = exported.Single(a => a.Source.Name == "AWSSDK.S3" && a.Kind == ActivityKind.Client && SdkSpans.IsUnder(a, size, exported) && a.Status == ActivityStatusCode.Error);
        Assert.Equal("S3.GetObjectMetadata", refused.OperationName); // the SDK's name for HeadObject
        Assert.NotNull(refused.GetTagItem("error.type"));
    }
}

[Collection("Azure")]
public sealed class AzureSdkSpanTests(AzureStoreFixture azure)
{
    [Fact]
    public async Task EveryAzureCall_OfABlockUpload_IsASpanUnderTheStorageSpan()
    {
        var spans = new ExportedSpans();
        var prefix = "spans-" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await SdkSpans.StartAsync(azure.GatewaySettings(prefix), spans);

        var (_, storage, exported) = await SdkSpans.UploadAsync(gateway, spans, (2 * 1024 * 1024) + 123); // three blocks
        var sdk = exported.Where(a => a.Source.Name.StartsWith("Azure.", StringComparison.Ordinal) && SdkSpans.IsUnder(a, storage, exported)).ToList();
        Assert.True(sdk.Count > 0, "no Azure spans under the storage span; spans: " + string.Join(", ", exported.Select(a => $"{a.Source.Name}:{a.OperationName}")));
        Assert.Equal(3, sdk.Count(a => a.OperationName == "BlockBlobClient.StageBlock"));
        Assert.Equal(1, sdk.Count(a => a.OperationName == "BlockBlobClient.CommitBlockList"));

        var metadata = (await azure.Container.GetBlobClient($"{prefix}/traced.bin").GetPropertiesAsync()).Value.Metadata;
        Assert.StartsWith($"00-{storage.TraceId}-", metadata["ftpgateway_traceparent"], StringComparison.Ordinal);
        Assert.Equal(Gateway.User, metadata["ftpgateway_user"]);
    }
}

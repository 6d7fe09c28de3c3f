using System.Diagnostics;
using Amazon.S3.Model;
using FtpGateway.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The storage requests an FTP client's work costs on S3 (radosgw), counted from the AWS SDK's own spans over
/// a real FTP session, by the command they served: a small STOR into a folder the gateway made is one PutObject
/// and nothing else, an MFMT a HEAD and a three-request copy, and a listing is one ListObjectsV2 per page of 1,000
/// plus one look at the path. If any grows, this fails: the per-request cost is what small files and listings pay.
/// </summary>
[Collection("S3")]
public sealed class StorageRequestBudgetTests(S3StoreFixture s3)
{
    [Fact]
    public async Task ASmallUpload_IsOnePutObject_AnMfmtFourRequests_AndAListingIsOneRequestPerPage()
    {
        var spans = new ExportedSpans();
        var prefix = "budget-" + Guid.NewGuid().ToString("N")[..8];
        await Parallel.ForEachAsync(Enumerable.Range(0, 1500), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = $"{prefix}/many/f{i:D5}.jpg", ContentBody = "x" }, ct));
        await using var gateway = await SdkSpans.StartAsync(s3.GatewaySettings(prefix), spans);
        await using (var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password))
        {
            await c.ExpectAsync("MKD cam", 257);
            await c.ExpectAsync("CWD cam", 250);
            await c.ExpectAsync("TYPE I", 200);
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(226, (await c.UploadAsync($"STOR f{i:D3}.jpg", new byte[4096], DataMode.Pasv)).Code);
            }

            await c.ExpectAsync("MFMT 20250101000000 f000.jpg", 213);
            await c.ExpectAsync("MFMT 20250102000000 f000.jpg", 213); // stamped before: its check is the MD5 of the part's MD5
            await c.ExpectAsync("CWD /many", 250);
            var listing = await c.ListAsync("NLST");
            Assert.Equal(1500, listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            await c.ExpectAsync("QUIT", 221);
        }

        var budget = await StorageBudget.OfSessionAsync(gateway, spans, "AWSSDK.S3");

        // 20 small STORs: 20 PutObjects, nothing else (the folder is known from the MKD: no look before each file).
        Assert.Equal("S3.PutObject x20", budget("ftp STOR"));

        // MFMT, as lftp's mirror -R sends after each STOR: S3 cannot change an object's metadata, so the time goes on a
        // copy of the object onto itself, made as a multipart copy so that its ETag tells listings it may carry a time
        // (README, "What the gateway remembers"), after a HEAD for the metadata it keeps — even right after the gateway's
        // own upload, since radosgw ignores the copy's ETag condition (on Azure that look is skipped: the class below).
        // The copied part's ETag shows the object unchanged (no second look), for a plain object and a stamped one.
        Assert.Equal("S3.CompleteMultipartUpload x2, S3.CopyPart x2, S3.GetObjectMetadata x2, S3.InitiateMultipartUpload x2", budget("ftp MFMT"));

        // A listing of 1,500: its two pages, plus the look at whether the path is a directory (a HEAD of the name and
        // a one-key listing under it).
        Assert.Equal("S3.GetObjectMetadata x1, S3.ListObjectsV2 x3", budget("ftp NLST"));
    }
}

/// <summary>
/// The same on Azure (Azurite): a small STOR is one Put Blob, and the MFMT lftp, WinSCP and FileZilla send right
/// after it stamps the version just stored with one Set Blob Metadata (conditional on its ETag), no look first.
/// </summary>
[Collection("Azure")]
public sealed class AzureStorageRequestBudgetTests(AzureStoreFixture azure)
{
    [Fact]
    public async Task ASmallUpload_IsOnePutBlob_AndTheMfmtAfterItOneSetMetadata()
    {
        var spans = new ExportedSpans();
        var prefix = "budget-" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await SdkSpans.StartAsync(azure.GatewaySettings(prefix), spans);
        await using (var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password))
        {
            await c.ExpectAsync("MKD cam", 257);
            await c.ExpectAsync("CWD cam", 250);
            await c.ExpectAsync("TYPE I", 200);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(226, (await c.UploadAsync($"STOR f{i:D3}.jpg", new byte[4096], DataMode.Pasv)).Code);
                await c.ExpectAsync($"MFMT 2025010100000{i} f{i:D3}.jpg", 213);
            }

            await c.ExpectAsync("MFMT 20250102000000 f000.jpg", 213); // not just stored: looked at first
            await c.ExpectAsync("QUIT", 221);
        }

        var budget = await StorageBudget.OfSessionAsync(gateway, spans, "Azure.");
        Assert.Equal("BlockBlobClient.Upload x5", budget("ftp STOR"));
        Assert.Equal("BlobBaseClient.GetProperties x1, BlobBaseClient.SetMetadata x6", budget("ftp MFMT"));
        var properties = (await azure.Container.GetBlobClient($"{prefix}/cam/f003.jpg").GetPropertiesAsync()).Value;
        Assert.Equal("1735689603000", properties.Metadata["ftpgw_mtime"]); // 2025-01-01 00:00:03 UTC in ms
        Assert.Equal(Gateway.User, properties.Metadata["ftpgateway_user"]);
    }
}

/// <summary>The storage requests of a finished gateway's one session, by the command they served.</summary>
internal static class StorageBudget
{
    /// <summary>
    /// Waits for the session to end, stops the gateway (flushing its spans) and returns, for a command's span name
    /// ("ftp STOR"), the store's requests (client spans from sources named <paramref name="source"/>…) it caused,
    /// as "Operation xN, …" in name order.
    /// </summary>
    public static async Task<Func<string, string>> OfSessionAsync(Gateway gateway, ExportedSpans spans, string source)
    {
        await Poll.UntilAsync(() => gateway.Services.GetRequiredService<FtpGateway.Ftp.FtpServer>().ActiveSessions == 0, "the session to end");
        await gateway.StopAsync();
        gateway.Services.GetRequiredService<TracerProvider>().ForceFlush();
        var exported = spans.Snapshot();
        var byId = exported.ToDictionary(x => x.SpanId);
        var session = exported.Single(a => a.OperationName == "ftp.session" && a.GetTagItem("server.port") is int port && port == gateway.Port);
        // Azure's client spans are its HTTP attempts ("Azure.Core.Http.Request"), each under the SDK call it served:
        // the call is the request (a transparent retry is not another one), as S3's client span is.
        var requests = exported.Where(a => a.Source.Name.StartsWith(source, StringComparison.Ordinal) && a.Kind == ActivityKind.Client && SdkSpans.InSession(a, session, exported))
            .Select(a => a.OperationName == "Azure.Core.Http.Request" && byId.TryGetValue(a.ParentSpanId, out var call) ? call : a)
            .DistinctBy(a => a.SpanId);

        // Every request of the session, by the command it served (its root span's name).
        string Command(Activity a)
        {
            var root = a;
            while (root.ParentSpanId != default && byId.TryGetValue(root.ParentSpanId, out var parent))
            {
                root = parent;
            }

            return root.OperationName;
        }

        var byCommand = requests.GroupBy(Command).ToDictionary(g => g.Key, g => g.Select(r => r.OperationName).ToList());
        return command => string.Join(", ", byCommand.GetValueOrDefault(command, []).GroupBy(v => v).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} x{g.Count()}"));
    }
}

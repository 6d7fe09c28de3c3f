using Amazon.S3.Model;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The README's fleet example, run: one users file, two customers; customer A's cameras on the default storage
/// (local disk here), customer B's in their own S3 bucket (radosgw), each camera under /devices/{user}.
/// </summary>
[Collection("S3")]
public sealed class FleetTargetTests(S3StoreFixture s3)
{
    [Fact]
    public async Task TwoCustomersInOneUsersFile_LandInTheirOwnStorage()
    {
        using var work = new TempDirectory();
        var prefix = "fleet-" + Guid.NewGuid().ToString("N")[..8];
        var usersFile = work.File("users.json");
        await File.WriteAllTextAsync(usersFile, """
            {
              "users": [
                { "name": "a-cam01", "password": "a-pw", "root": "/devices/{user}", "permissions": "WriteOnly" },
                { "name": "b-cam01", "password": "b-pw", "root": "/devices/{user}", "storage": "customer-b", "permissions": "WriteOnly" }
              ]
            }
            """);
        var settings = new Dictionary<string, string?>
        {
            ["Users:File"] = usersFile,
            ["Users:0:Name"] = "ops",
            ["Users:0:Password"] = "ops-pw",
            ["Management:ReadinessTargets:0"] = "default",
            ["Management:ReadinessTargets:1"] = "customer-b",
        };
        foreach (var (key, value) in s3.GatewaySettings(prefix))
        {
            settings[key.Replace("Storage:", "Storage:Targets:customer-b:", StringComparison.Ordinal)] = value;
        }

        await using var gateway = await Gateway.StartAsync(settings);
        var curl = ExternalProcess.Require("curl");
        var photo = work.File("photo.jpg");
        await File.WriteAllBytesAsync(photo, [0xFF, 0xD8, 0xFF, 0xE0]);
        foreach (var (user, password) in new[] { ("a-cam01", "a-pw"), ("b-cam01", "b-pw") })
        {
            var upload = await ExternalProcess.RunAsync(curl, ["-sS", "-T", photo, $"ftp://{user}:{password}@127.0.0.1:{gateway.Port}/photo.jpg"]);
            Assert.True(upload.ExitCode == 0, upload.ToString());
        }

        Assert.True(File.Exists(gateway.Root.File("devices/a-cam01/photo.jpg")));
        Assert.False(Directory.Exists(gateway.Root.File("devices/b-cam01")));
        using var stored = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, $"{prefix}/devices/b-cam01/photo.jpg");
        Assert.Equal(4, stored.ContentLength);
        var a = await s3.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3StoreFixture.Bucket, Prefix = $"{prefix}/devices/a-cam01/" });
        Assert.Empty(a.S3Objects ?? []);

        // The readiness probe covers both targets, as Management:ReadinessTargets asks.
        using var http = new HttpClient();
        Assert.Equal("ready\n", await http.GetStringAsync(new Uri(gateway.ManagementUrl, "/readyz")));
    }

    [Fact]
    public async Task AUserNamingAnUnknownTarget_StopsTheStart_NamingIt()
    {
        using var work = new TempDirectory();
        var usersFile = work.File("users.json");
        await File.WriteAllTextAsync(usersFile, """{ "users": [ { "name": "x", "password": "p", "storage": "nowhere" } ] }""");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => Gateway.StartAsync(new Dictionary<string, string?> { ["Users:File"] = usersFile }));
        Assert.Contains("storage target 'nowhere'", error.ToString(), StringComparison.Ordinal);
    }
}

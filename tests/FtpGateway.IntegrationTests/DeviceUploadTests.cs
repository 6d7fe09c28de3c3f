using System.Net.Sockets;
using System.Security.Cryptography;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Devices on the first try, on every provider: folders made on demand (<c>createDirectories</c>: a deep STOR, MKD
/// a/b/c), and never a file lost to a reused name (<c>onExistingFile</c>: Rename with two sessions racing on one name,
/// Reject before 150).
/// </summary>
internal static class DeviceUploads
{
    /// <summary>The users these scenarios log in as, added to a provider's settings.</summary>
    public static Dictionary<string, string?> WithDeviceUsers(Dictionary<string, string?> settings)
    {
        settings["Users:1:Name"] = "camera";
        settings["Users:1:Password"] = "camera-pw";
        settings["Users:1:CreateDirectories"] = "true";
        settings["Users:1:OnExistingFile"] = "Rename";
        settings["Users:2:Name"] = "scanner";
        settings["Users:2:Password"] = "scanner-pw";
        settings["Users:2:OnExistingFile"] = "Reject";
        settings["Users:3:Name"] = "viewer";
        settings["Users:3:Password"] = "viewer-pw";
        settings["Users:3:Permissions"] = "ReadOnly";
        settings["Users:3:CreateDirectories"] = "true";
        return settings;
    }

    public static async Task DeepFoldersAreMadeOnDemandAsync(Gateway gateway)
    {
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, "camera", "camera-pw");
        var photo = RandomNumberGenerator.GetBytes(2048);
        Assert.Equal(226, (await c.UploadAsync("STOR /SN123/2026-12-06/001/jpg/10/15/img1.jpg", photo)).Code);
        Assert.Equal(photo, (await c.DownloadAsync("RETR /SN123/2026-12-06/001/jpg/10/15/img1.jpg")).Data);
        Assert.Equal(226, (await c.UploadAsync("APPE /SN123/logs/today.log", [1, 2, 3])).Code);
        await c.ExpectAsync("MKD a/b/c", 257);
        await c.ExpectAsync("CWD a/b/c", 250);
        await c.ExpectAsync("CWD /", 250);
        Assert.Equal(226, (await c.UploadAsync("STOR /SN123/2026-12-06/001/jpg/10/15/img2.jpg", photo)).Code); // the folder exists now

        // A file in the way is still refused; without createDirectories nothing is made; a ReadOnly user makes nothing.
        await c.ExpectAsync("MKD /SN123/2026-12-06/001/jpg/10/15/img1.jpg/x", 550);
        await using var plain = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        Assert.Equal(553, (await plain.UploadAsync("STOR /other/deep/x.jpg", photo)).Code);
        await plain.ExpectAsync("MKD /other/deep", 550);
        await using var viewer = await RawFtpClient.LoginAsync(gateway.Port, "viewer", "viewer-pw");
        await viewer.ExpectAsync("MKD /v/w", 550);
        await plain.ExpectAsync("CWD /other", 550);
    }

    public static async Task AReusedNameIsNeverLostAsync(Gateway gateway)
    {
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, "camera", "camera-pw");
        var first = RandomNumberGenerator.GetBytes(1000);
        var second = RandomNumberGenerator.GetBytes(1000);
        Assert.Equal(226, (await c.UploadAsync("STOR /rec/29M00S60.mp4", first)).Code);
        var renamed = await c.UploadAsync("STOR /rec/29M00S60.mp4", second);
        Assert.Equal(226, renamed.Code);
        Assert.Contains("stored as 29M00S60.1.mp4", renamed.Text, StringComparison.Ordinal);
        Assert.Equal(first, (await c.DownloadAsync("RETR /rec/29M00S60.mp4")).Data);
        Assert.Equal(second, (await c.DownloadAsync("RETR /rec/29M00S60.1.mp4")).Data);

        // Two sessions store one name at once: both 150s come before either sends a byte; both files are kept, as announced.
        await using var a = await RawFtpClient.LoginAsync(gateway.Port, "camera", "camera-pw");
        await using var b = await RawFtpClient.LoginAsync(gateway.Port, "camera", "camera-pw");
        using var dataA = await a.OpenPassiveAsync();
        using var dataB = await b.OpenPassiveAsync();
        var openA = await a.ExpectAsync("STOR /rec/race.jpg", 150);
        var openB = await b.ExpectAsync("STOR /rec/race.jpg", 150);
        var (bytesA, bytesB) = (RandomNumberGenerator.GetBytes(300_000), RandomNumberGenerator.GetBytes(300_000));
        await Task.WhenAll(SendAsync(dataA, bytesA), SendAsync(dataB, bytesB));
        var (doneA, doneB) = (await a.ReadReplyAsync(), await b.ReadReplyAsync());
        Assert.Equal((226, 226), (doneA.Code, doneB.Code));
        var names = new[] { doneA, doneB }.Select(r => r.Text.Contains("stored as ", StringComparison.Ordinal) ? r.Text.Split("stored as ")[1].TrimEnd('.') : "race.jpg").ToList();
        Assert.Equal(["race.1.jpg", "race.jpg"], names.Order());
        Assert.Equal(bytesA, (await c.DownloadAsync("RETR /rec/" + names[0])).Data);
        Assert.Equal(bytesB, (await c.DownloadAsync("RETR /rec/" + names[1])).Data);
        Assert.Single(new[] { openA, openB }, o => o.Text.Contains("(race.jpg exists: stored as race.1.jpg)", StringComparison.Ordinal)); // the 150 says it too

        // Reject: 553 before 150 (no data moves), the first file kept.
        await using var scanner = await RawFtpClient.LoginAsync(gateway.Port, "scanner", "scanner-pw");
        Assert.Equal(226, (await scanner.UploadAsync("STOR scan0001.pdf", first)).Code);
        using var unused = await scanner.OpenPassiveAsync();
        var rejected = await scanner.SendAsync("STOR scan0001.pdf");
        Assert.Equal(553, rejected.Code);
        Assert.Contains("exists", rejected.Text, StringComparison.Ordinal);
        Assert.Equal(first, (await scanner.DownloadAsync("RETR scan0001.pdf")).Data);
    }

    private static async Task SendAsync(Socket data, byte[] content)
    {
        await data.SendAsync(content);
        data.Shutdown(SocketShutdown.Send);
        data.Close();
    }
}

public sealed class LocalDiskDeviceUploadTests
{
    [Fact]
    public async Task DeepFolders_AreMadeOnDemand()
    {
        await using var gateway = await Gateway.StartAsync(DeviceUploads.WithDeviceUsers([]));
        await DeviceUploads.DeepFoldersAreMadeOnDemandAsync(gateway);
    }

    [Fact]
    public async Task AReusedName_IsNeverLost()
    {
        await using var gateway = await Gateway.StartAsync(DeviceUploads.WithDeviceUsers([]));
        await DeviceUploads.AReusedNameIsNeverLostAsync(gateway);
    }
}

[Collection("S3")]
public sealed class S3DeviceUploadTests(S3StoreFixture s3)
{
    [Fact]
    public async Task DeepFolders_AreMadeOnDemand_AndAReusedNameIsNeverLost()
    {
        await using var gateway = await Gateway.StartAsync(DeviceUploads.WithDeviceUsers(s3.GatewaySettings("dev-" + Guid.NewGuid().ToString("N")[..8])));
        await DeviceUploads.DeepFoldersAreMadeOnDemandAsync(gateway);
        await DeviceUploads.AReusedNameIsNeverLostAsync(gateway);
    }
}

[Collection("Azure")]
public sealed class AzureDeviceUploadTests(AzureStoreFixture azure)
{
    [Fact]
    public async Task DeepFolders_AreMadeOnDemand_AndAReusedNameIsNeverLost()
    {
        await using var gateway = await Gateway.StartAsync(DeviceUploads.WithDeviceUsers(azure.GatewaySettings("dev-" + Guid.NewGuid().ToString("N")[..8])));
        await DeviceUploads.DeepFoldersAreMadeOnDemandAsync(gateway);
        await DeviceUploads.AReusedNameIsNeverLostAsync(gateway);
    }
}

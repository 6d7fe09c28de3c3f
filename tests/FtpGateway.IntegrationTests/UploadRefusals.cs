using System.Security.Cryptography;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Uploads the gateway must refuse before the 150, as a reply a device can act on, on every provider: into a
/// directory that does not exist (553: a camera that makes its folder only when STOR is refused), onto a
/// directory (550), and to a name the store cannot hold (553; reads of such a name are 550).
/// </summary>
internal static class UploadRefusals
{
    /// <summary>curl sending STOR straight to a missing directory (no CWD, no --ftp-create-dirs), and a raw client.</summary>
    public static async Task IntoAMissingDirectoryAsync(Gateway gateway, TempDirectory work)
    {
        var big = work.File("thirty.bin");
        await File.WriteAllBytesAsync(big, RandomNumberGenerator.GetBytes(30 * 1024 * 1024));
        var curl = await ExternalProcess.RunAsync(
            ExternalProcess.Require("curl"), ["-sS", "--ftp-method", "nocwd", "-T", big, $"{gateway.UserUrl}/no/such/dir/thirty.bin"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(curl.ExitCode == 25, curl.ToString()); // CURLE_UPLOAD_FAILED: the server's refusal, not a broken connection
        Assert.Contains("553", curl.StandardError, StringComparison.Ordinal);

        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR no/such/x.bin", 553);
        await c.ExpectAsync("APPE no/such/x.bin", 553);
        await c.ExpectAsync("MKD existing", 257);
        await c.ExpectAsync("STOR existing", 550);
        await c.ExpectAsync("MKD no", 257);
        await c.ExpectAsync("MKD no/such", 257);
        Assert.Equal(226, (await c.UploadAsync("STOR no/such/x.bin", [1, 2, 3])).Code);
    }

    /// <summary>A name longer than the store holds: the client's error, never "storage unavailable".</summary>
    public static async Task TooLongForTheStoreAsync(Gateway gateway, string tooLong)
    {
        await using var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password);
        await c.ExpectAsync($"MKD {tooLong}", 553);
        await c.ExpectAsync($"CWD {tooLong}", 550);
        await c.ExpectAsync($"SIZE {tooLong}", 550);
        await c.ExpectAsync($"MDTM {tooLong}", 550);
        await c.ExpectAsync($"DELE {tooLong}", 550);
        await c.OpenPassiveAsync();
        await c.ExpectAsync($"STOR {tooLong}", 553);
        await c.ExpectAsync("NOOP", 200);
    }
}

using System.Diagnostics;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// A user's bandwidth limit over real sockets, on the real clock: the user's sessions share it. Seconds long by
/// nature, so here rather than among the unit tests (which check the bucket on a fake clock: TokenBucketTests).
/// </summary>
public sealed class BandwidthLimitTests : IDisposable
{
    private readonly TempDirectory _config = new();
    private readonly FakeTimeProvider _clock = new();
    private readonly FtpTelemetry _telemetry = new();

    private string UsersFile => _config.File("users.json");

    private static string Entry(string name, string password, string extra = "") =>
        $$"""{ "name": "{{name}}", "password": "{{password}}"{{(extra.Length > 0 ? ", " + extra : "")}} }""";

    private void WriteUsers(params string[] entries) =>
        File.WriteAllText(UsersFile, "{ \"users\": [\n" + string.Join(",\n", entries) + "\n] }");

    private UserStore Store() => new([], new AnonymousOptions(), UsersFile, _clock, NullLogger.Instance, _telemetry);

    private static Task<TestServer> StartAsync(UserStore users) =>
        TestServer.StartAsync(o => o.LoginFailureDelay = TimeSpan.Zero, userStore: users);

    [Fact]
    public async Task ABandwidthLimit_HoldsWithinTwentyPercent_AcrossTheUsersSessions()
    {
        const int Rate = 256 * 1024;
        WriteUsers(Entry("cam01", "pw1", $"\"uploadBytesPerSecond\": {Rate}, \"downloadBytesPerSecond\": {Rate}"));
        using var users = Store();
        await using var server = await StartAsync(users);
        await using var a = await RawFtpClient.LoginAsync(server.Port, "cam01", "pw1");
        await using var b = await RawFtpClient.LoginAsync(server.Port, "cam01", "pw1");

        // Two sessions of one user upload 2 x 512 KiB at once: 1 MiB at 256 KiB/s together is about 4 s.
        var clock = Stopwatch.StartNew();
        var uploads = await Task.WhenAll(a.UploadAsync("STOR a.bin", new byte[2 * Rate]), b.UploadAsync("STOR b.bin", new byte[2 * Rate]));
        var rate = 4.0 * Rate / clock.Elapsed.TotalSeconds;
        Assert.All(uploads, r => Assert.Equal(226, r.Code));
        Assert.InRange(rate, Rate * 0.8, Rate * 1.2);

        clock.Restart();
        var (bytes, final) = await a.DownloadAsync("RETR a.bin");
        rate = bytes.Length / clock.Elapsed.TotalSeconds;
        Assert.Equal(226, final.Code);
        Assert.InRange(rate, Rate * 0.8, Rate * 1.2);
    }

    public void Dispose()
    {
        _config.Dispose();
        _telemetry.Dispose();
    }
}

using System.Net;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Users;

/// <summary>Per-user settings over real TCP: roots, address rules, session and size limits, file-name code pages, TLS (bandwidth: TokenBucketTests, and the integration tests).</summary>
public sealed class UserLimitsTests : IDisposable
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

    private void Poll() => _clock.Advance(UserStore.PollInterval);

    private static async Task<int> LoginCodeAsync(int port, string user, string password, IPAddress? from = null)
    {
        await using var c = await RawFtpClient.ConnectAsync(port, from: from);
        await c.ExpectAsync("USER " + user, 331);
        return (await c.SendAsync("PASS " + password)).Code;
    }

    private static Task<TestServer> StartAsync(UserStore users, Action<FtpServerOptions>? configure = null) =>
        TestServer.StartAsync(o => { o.LoginFailureDelay = TimeSpan.Zero; configure?.Invoke(o); }, userStore: users);

    [Fact]
    public async Task PerUserRoots_AddressRules_AndSessionLimits()
    {
        WriteUsers(
            Entry("cam01", "pw1", "\"root\": \"/devices/{user}\", \"maxSessions\": 2"),
            Entry("cam02", "pw2", "\"root\": \"/devices/{user}\", \"allowedAddresses\": [\"127.0.0.2/32\"]"));
        using var users = Store();
        await using var server = await StartAsync(users);

        await using (var c = await RawFtpClient.LoginAsync(server.Port, "cam01", "pw1"))
        {
            Assert.Equal(226, (await c.UploadAsync("STOR img.jpg", [1, 2, 3])).Code);
            Assert.Contains("\"/\"", (await c.ExpectAsync("PWD", 257)).Message, StringComparison.Ordinal);
        }

        Assert.Equal([1, 2, 3], File.ReadAllBytes(server.Root.File("devices/cam01/img.jpg")));
        await TestSupport.Poll.UntilAsync(() => server.ActiveSessions == 0, "the first session gone");

        // cam02 only from 127.0.0.2: elsewhere the same 530 as a wrong password.
        Assert.Equal(530, await LoginCodeAsync(server.Port, "cam02", "pw2", IPAddress.Parse("127.0.0.3")));
        Assert.Equal(230, await LoginCodeAsync(server.Port, "cam02", "pw2", IPAddress.Parse("127.0.0.2")));

        // cam01 twice at most; a third session is refused, and a slot frees when one logs out.
        await using var one = await RawFtpClient.LoginAsync(server.Port, "cam01", "pw1");
        await using var two = await RawFtpClient.LoginAsync(server.Port, "cam01", "pw1");
        Assert.Equal(421, await LoginCodeAsync(server.Port, "cam01", "pw1"));
        await two.ExpectAsync("QUIT", 221);
        await Poll_Until_LoginAsync(server.Port, "cam01", "pw1");
    }

    private static Task Poll_Until_LoginAsync(int port, string user, string password) =>
        TestSupport.Poll.UntilAsync(async () => await LoginCodeAsync(port, user, password) == 230, "a session slot freed");

    [Fact]
    public async Task MaxUploadBytes_CountsTheFinalSize_AndStoresNothingBeyondIt()
    {
        WriteUsers(Entry("cam01", "pw1", "\"maxUploadBytes\": 1000"));
        using var users = Store();
        await using var server = await StartAsync(users);
        await using var c = await RawFtpClient.LoginAsync(server.Port, "cam01", "pw1");
        Assert.Equal(226, (await c.UploadAsync("STOR ok.bin", new byte[1000])).Code);

        var tooBig = await c.UploadAsync("STOR big.bin", new byte[1001]);
        Assert.Equal(552, tooBig.Code);
        Assert.False(File.Exists(server.Root.File("big.bin")));

        // APPE: 600 there + 500 more is over; the file stays as it was.
        Assert.Equal(226, (await c.UploadAsync("STOR log.bin", new byte[600])).Code);
        Assert.Equal(552, (await c.UploadAsync("APPE log.bin", new byte[500])).Code);
        Assert.Equal(600, new FileInfo(server.Root.File("log.bin")).Length);

        // REST + STOR: the kept 600 bytes count too.
        await c.ExpectAsync("REST 600", 350);
        Assert.Equal(552, (await c.UploadAsync("STOR log.bin", new byte[401])).Code);
        await c.ExpectAsync("REST 600", 350);
        Assert.Equal(226, (await c.UploadAsync("STOR log.bin", new byte[400])).Code);
        Assert.Equal(1000, new FileInfo(server.Root.File("log.bin")).Length);
        Assert.DoesNotContain(Directory.GetFiles(server.Root.Path), f => Path.GetFileName(f).StartsWith(".ftpgw-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AGbkFileName_IsStoredAndListedAsUtf8_ButTheDeviceSeesItsOwnBytes()
    {
        WriteUsers(Entry("cam01", "pw1", "\"fileNameEncoding\": \"gb18030\""));
        using var users = Store();
        await using var server = await StartAsync(users);
        await using var c = await RawFtpClient.LoginAsync(server.Port, "cam01", "pw1");
        var gbk = NameEncodings.Find("gb18030")!;
        const string Name = "监控照片.jpg";

        using var data = await c.OpenPassiveAsync();
        await c.SendRawAsync([.. "STOR "u8.ToArray(), .. gbk.GetBytes(Name), .. "\r\n"u8.ToArray()]);
        Assert.Equal(150, (await c.ReadReplyAsync()).Code);
        await data.SendAsync(new byte[] { 9, 9 });
        data.Close();
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.True(File.Exists(server.Root.File(Name)), "stored under its UTF-8 name"); // .NET paths are UTF-8 on Linux

        // NLST sends the name back in the device's code page.
        using var listing = await c.OpenPassiveAsync();
        await c.ExpectAsync("NLST", 150);
        var raw = await RawFtpClient.ReadToEndAsync(listing);
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Equal(gbk.GetBytes(Name + "\r\n"), raw);
    }

    [Fact]
    public async Task RequireTls_RefusesAClearTextLoginAndClearData()
    {
        WriteUsers(Entry("secure", "pw1", "\"requireTls\": true"), Entry("plain", "pw2"));
        using var users = Store();
        using var certificates = new TempDirectory();
        var (certificate, key) = TestCertificates.CreateTlsFiles(certificates.Path);
        await using var server = await StartAsync(users, o => (o.Tls.CertificatePath, o.Tls.KeyPath) = (certificate, key));
        Assert.Equal(530, await LoginCodeAsync(server.Port, "secure", "pw1"));
        Assert.Equal(230, await LoginCodeAsync(server.Port, "plain", "pw2"));

        var curl = ExternalProcess.Require("curl");
        var secure = await ExternalProcess.RunAsync(curl, ["-sS", "--ssl-reqd", "-k", "-l", $"ftp://secure:pw1@127.0.0.1:{server.Port}/"]);
        Assert.True(secure.ExitCode == 0, secure.ToString());
        var clearData = await ExternalProcess.RunAsync(curl, ["-sS", "-v", "--ftp-ssl-control", "-k", "-l", $"ftp://secure:pw1@127.0.0.1:{server.Port}/"]);
        Assert.NotEqual(0, clearData.ExitCode); // TLS login, but clear data: refused
        Assert.Contains("< 230", clearData.StandardError, StringComparison.Ordinal);
        Assert.Contains("< 534", clearData.StandardError, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _telemetry.Dispose();
        _config.Dispose();
    }
}

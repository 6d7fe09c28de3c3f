using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests;

/// <summary>
/// The users file (reloaded while the server runs) and the per-user settings, over real TCP. The file's poll
/// runs on a fake clock that the test moves on, so no test waits for it.
/// </summary>
public sealed class FleetUserTests : IDisposable
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
    public async Task AUserAddedToTheFile_LogsInWithoutARestart_AndABrokenFileKeepsTheUsers()
    {
        var failures = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == _telemetry.Meter && instrument.Name == "ftpgateway.users.reload_failures")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref failures, (int)value));
        listener.Start();
        WriteUsers(Entry("cam01", "pw1"));
        using var users = Store();
        await using var server = await StartAsync(users);
        Assert.Equal(530, await LoginCodeAsync(server.Port, "cam02", "pw2"));

        WriteUsers(Entry("cam01", "pw1"), Entry("cam02", "pw2"));
        Poll();
        Assert.Equal(230, await LoginCodeAsync(server.Port, "cam02", "pw2"));

        foreach (var broken in new[]
        {
            "{ \"users\": [ { \"name\": \"cam03\", ",                                           // not JSON
            "{ \"users\": [ " + Entry("cam01", "x") + ", " + Entry("cam01", "y") + " ] }",       // a name twice
            "{ \"users\": [ { \"name\": \"cam03\", \"password\": \"p\", \"maxSesions\": 2 } ] }", // a misspelt field
            "{ \"users\": [ { \"name\": \"cam03\", \"password\": \"p\", \"root\": \"/a/{user}\", \"allowedAddresses\": [\"10.0.0.1/8\"] } ] }",
            "{ \"users\": [ null ] }",                                                       // not a user at all
            "{ \"users\": [ { \"name\": \"cam03\", \"password\": \"p\", \"fileNameEncoding\": \"utf-16\" } ] }", // commands are ASCII
        })
        {
            File.WriteAllText(UsersFile, broken);
            Poll();
            Poll(); // the same broken version again: counted and logged once
            Assert.Equal(230, await LoginCodeAsync(server.Port, "cam02", "pw2")); // the previous users stay
        }

        Assert.Equal(2, users.Current.Count);
        Assert.Equal(6, failures);
    }

    [Fact]
    public void ABrokenFileReverted_IsCurrentAgain_AndSaysSo()
    {
        // Regression: reverting a broken edit to the content in force left ftpgateway_users_file_current at 0 for good.
        var current = -1L;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == _telemetry.Meter && instrument.Name == "ftpgateway.users.file_current")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => current = value);
        listener.Start();
        var good = "{ \"users\": [ " + Entry("cam01", "pw1") + " ] }";
        File.WriteAllText(UsersFile, good);
        var logs = new CollectingLoggerFactory();
        using var users = new UserStore([], new AnonymousOptions(), UsersFile, _clock, logs.CreateLogger("users"), _telemetry);
        listener.RecordObservableInstruments();
        Assert.Equal(1, current);
        File.WriteAllText(UsersFile, "{ \"users\": [ ");
        Poll();
        listener.RecordObservableInstruments();
        Assert.Equal(0, current);
        File.WriteAllText(UsersFile, good); // the same content as in force
        Poll();
        listener.RecordObservableInstruments();
        Assert.Equal(1, current);
        Assert.Equal(2, logs.Lines.Count(l => l.Message.Contains("loaded: 1 users", StringComparison.Ordinal))); // at start, and when good again
    }

    [Fact]
    public async Task AKubernetesSecretSwap_IsSeen()
    {
        // A Secret volume: users.json -> ..data/users.json, ..data -> ..<timestamp>; an update swaps ..data atomically.
        Directory.CreateDirectory(_config.File("..2026_11_30_1"));
        File.WriteAllText(_config.File("..2026_11_30_1/users.json"), "{ \"users\": [ " + Entry("cam01", "old") + " ] }");
        File.CreateSymbolicLink(_config.File("..data"), "..2026_11_30_1");
        File.CreateSymbolicLink(UsersFile, "..data/users.json");
        using var users = Store();
        await using var server = await StartAsync(users);
        Assert.Equal(230, await LoginCodeAsync(server.Port, "cam01", "old"));

        Directory.CreateDirectory(_config.File("..2026_11_30_2"));
        File.WriteAllText(_config.File("..2026_11_30_2/users.json"), "{ \"users\": [ " + Entry("cam01", "new") + " ] }");
        File.CreateSymbolicLink(_config.File("..data_tmp"), "..2026_11_30_2");
        var swap = await ExternalProcess.RunAsync(ExternalProcess.Require("mv"), ["-T", _config.File("..data_tmp"), _config.File("..data")]); // rename(2), as the kubelet does
        Assert.True(swap.ExitCode == 0, swap.ToString());
        Directory.Delete(_config.File("..2026_11_30_1"), recursive: true);
        Poll();
        Assert.Equal(530, await LoginCodeAsync(server.Port, "cam01", "old"));
        Assert.Equal(230, await LoginCodeAsync(server.Port, "cam01", "new"));
    }

    [Fact]
    public async Task ARemovedOrDisabledUser_CannotLogIn_AndItsSessionClosesAfterItsTransfer()
    {
        WriteUsers(Entry("cam01", "pw1"), Entry("cam02", "pw2"), Entry("cam03", "pw3"));
        using var users = Store();
        await using var server = await StartAsync(users);
        await using var uploading = await RawFtpClient.LoginAsync(server.Port, "cam01", "pw1");
        await using var idle = await RawFtpClient.LoginAsync(server.Port, "cam02", "pw2");
        using var data = await uploading.OpenPassiveAsync();
        await uploading.ExpectAsync("STOR running.bin", 150);
        await data.SendAsync(new byte[10_000]);

        await using var changed = await RawFtpClient.LoginAsync(server.Port, "cam03", "pw3");
        WriteUsers(Entry("cam02", "pw2", "\"disabled\": true"), Entry("cam03", "new-pw3"));
        Poll();
        Assert.Equal(530, await LoginCodeAsync(server.Port, "cam01", "pw1"));
        Assert.Equal(530, await LoginCodeAsync(server.Port, "cam02", "pw2"));
        Assert.Equal(421, (await idle.ReadReplyAsync()).Code); // no transfer running: closed at once
        Assert.Equal(421, (await changed.ReadReplyAsync()).Code); // a changed password ends the session too
        Assert.Equal(230, await LoginCodeAsync(server.Port, "cam03", "new-pw3"));

        // The running upload finishes and is committed; then the session gets 421.
        data.Shutdown(SocketShutdown.Send);
        data.Close();
        Assert.Equal(226, (await uploading.ReadReplyAsync()).Code);
        Assert.Equal(421, (await uploading.ReadReplyAsync()).Code);
        Assert.Equal(10_000, new FileInfo(server.Root.File("running.bin")).Length);
    }

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

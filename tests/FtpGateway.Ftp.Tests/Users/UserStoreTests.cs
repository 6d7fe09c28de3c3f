using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Users;

/// <summary>The users file while the gateway runs: added, broken, reverted, swapped as a Kubernetes secret, removed.</summary>
public sealed class UserStoreTests : IDisposable
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

    /// <summary>Moves the clock in small steps until <paramref name="work"/> is done.</summary>
    private static async Task<T> WhileTheClockRuns<T>(FakeTimeProvider time, Task<T> work)
    {
        while (!work.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(1);
        }

        return await work;
    }

    public void Dispose()
    {
        _telemetry.Dispose();
        _config.Dispose();
    }
}

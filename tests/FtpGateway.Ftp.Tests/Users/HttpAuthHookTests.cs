using System.Net;
using System.Text;
using System.Text.Json;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Users;

/// <summary>The HTTP authentication hook against a real HTTP server on loopback.</summary>
public sealed class HttpAuthHookTests : IAsyncLifetime
{
    private readonly List<JsonElement> _requests = [];
    private LoopbackHttpServer _hookServer = null!;
    private string _url = string.Empty;

    public Task InitializeAsync()
    {
        _hookServer = new LoopbackHttpServer("ftp-auth", AnswerAsync);
        _url = _hookServer.Url;
        return Task.CompletedTask;
    }

    /// <summary>good/pw: a user with a root and a limit; denied: 403; down: 500; slow: 3 s; garbage: not JSON.</summary>
    private async Task AnswerAsync(HttpListenerContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.InputStream);
        var request = body.RootElement.Clone();
        lock (_requests)
        {
            _requests.Add(request);
        }

        var client = request.GetProperty("clientAddress").GetString();
        var tls = request.GetProperty("tls").GetBoolean();
        var (status, answer) = (request.GetProperty("user").GetString(), request.GetProperty("password").GetString()) switch
        {
            ("good", "pw") => (200, """{ "root": "/hooked/{user}", "permissions": "Full", "maxUploadBytes": 5 }"""),
            ("denied", _) => (403, ""),
            ("down", _) => (500, ""),
            ("garbage", _) => (200, "<html>"),
            ("off", _) => (200, """{ "disabled": true }"""),
            ("fenced", "pw") => (200, """{ "root": "/", "permissions": "Full", "allowedAddresses": ["127.0.0.2/32"] }"""),
            ("slow", _) => (200, """{ "root": "/", "permissions": "Full" }"""),
            ("bare", _) => (200, "{}"),
            ("rootless", _) => (200, """{ "permissions": "Full" }"""),
            ("emptyroot", _) => (200, """{ "root": " ", "permissions": "Full" }"""), // an unmapped directory attribute
            ("fromtwo", "pw") when client == "127.0.0.2" => (200, """{ "root": "/", "permissions": "ReadOnly" }"""),
            ("tlsonly", "pw") when tls => (200, """{ "root": "/", "permissions": "ReadOnly" }"""),
            _ => (401, ""),
        };
        if (request.GetProperty("user").GetString() == "slow")
        {
            await _slowAnswer.Task; // held until the test has seen the hook give up
        }
        else if (request.GetProperty("user").GetString()!.StartsWith("guess", StringComparison.Ordinal))
        {
            await Task.Delay(100); // a directory lookup that takes a moment: the flood is still under way when others log in
        }

        context.Response.StatusCode = status;
        await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(answer));
    }

    private int Requests(string user)
    {
        lock (_requests)
        {
            return _requests.Count(r => r.GetProperty("user").GetString() == user);
        }
    }

    private readonly List<HttpAuthHook> _hooks = [];

    private readonly TaskCompletionSource _slowAnswer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly CollectingLoggerFactory _logs = new();

    private async Task<TestServer> StartAsync(TimeSpan? timeout = null, Action<FtpServerOptions>? configure = null, TimeProvider? hookTime = null)
    {
        var hook = new HttpAuthHook(new AuthHttpOptions { Url = _url, Timeout = timeout ?? TimeSpan.FromSeconds(5) }, _logs.CreateLogger("FtpGateway.Ftp.AuthHook"), hookTime);
        _hooks.Add(hook);
        return await TestServer.StartAsync(
            o =>
            {
                o.LoginFailureDelay = TimeSpan.Zero;
                configure?.Invoke(o);
            },
            authHook: hook);
    }

    private static async Task<WireReply> LoginAsync(int port, string user, string password, IPAddress? from = null)
    {
        await using var c = await RawFtpClient.ConnectAsync(port, from: from);
        await c.ExpectAsync("USER " + user, 331);
        return await c.SendAsync("PASS " + password);
    }

    [Fact]
    public async Task TheHookAccepts_WithItsSettings_AndIsAskedOncePerCacheDuration()
    {
        await using var server = await StartAsync();
        await using (var c = await RawFtpClient.ConnectAsync(server.Port))
        {
            await c.ExpectAsync("USER good", 331);
            await c.ExpectAsync("PASS pw", 230);
            Assert.Equal(226, (await c.UploadAsync("STOR a.txt", [1, 2, 3])).Code);
            Assert.Equal(552, (await c.UploadAsync("STOR b.txt", new byte[6])).Code); // the hook's maxUploadBytes
        }

        Assert.True(File.Exists(server.Root.File("hooked/good/a.txt")));
        Assert.Equal(230, (await LoginAsync(server.Port, "good", "pw")).Code);
        Assert.Equal(1, Requests("good")); // the second login came from the cache
        Assert.Equal(530, (await LoginAsync(server.Port, "good", "wrong")).Code); // another password is asked again
        Assert.Equal(2, Requests("good"));

        lock (_requests)
        {
            var request = _requests[0];
            Assert.Equal("127.0.0.1", request.GetProperty("clientAddress").GetString());
            Assert.False(request.GetProperty("tls").GetBoolean());
        }
    }

    [Theory]
    [InlineData("denied", 530)]
    [InlineData("nobody", 530)]
    [InlineData("down", 421)]
    [InlineData("off", 530)]
    [InlineData("fenced", 530)] // allowed from 127.0.0.2 only; the test connects from 127.0.0.1
    [InlineData("garbage", 421)]
    [InlineData("bare", 421)]     // 200 {} would have been the storage root with every right
    [InlineData("rootless", 421)]
    [InlineData("emptyroot", 421)]
    public async Task TheHooksAnswer_BecomesTheReply(string user, int code)
    {
        await using var server = await StartAsync();
        Assert.Equal(code, (await LoginAsync(server.Port, user, "pw")).Code);
    }

    [Fact]
    public async Task AnAnswerWithoutRootAndPermissions_IsRefused_WithOneLineNamingWhatIsMissing()
    {
        await using var server = await StartAsync();
        Assert.Equal(421, (await LoginAsync(server.Port, "bare", "pw")).Code);
        Assert.Contains(_logs.Lines, l => l.Message.Contains("'root' or 'permissions'", StringComparison.Ordinal) && l.Message.Contains("bare", StringComparison.Ordinal));
        Assert.Equal(421, (await LoginAsync(server.Port, "rootless", "pw")).Code);
        Assert.Contains(_logs.Lines, l => l.Message.Contains("does not say 'root';", StringComparison.Ordinal));
        Assert.False(Directory.Exists(server.Root.File("bare")));
    }

    [Fact]
    public async Task ACachedAnswer_IsNeverReused_ForAnotherAddress()
    {
        // The hook allows "fromtwo" only from 127.0.0.2. Its yes must not let 127.0.0.3 in from the cache.
        await using var server = await StartAsync();
        Assert.Equal(230, (await LoginAsync(server.Port, "fromtwo", "pw", IPAddress.Parse("127.0.0.2"))).Code);
        Assert.Equal(230, (await LoginAsync(server.Port, "fromtwo", "pw", IPAddress.Parse("127.0.0.2"))).Code);
        Assert.Equal(1, Requests("fromtwo")); // the same address: from the cache
        Assert.Equal(530, (await LoginAsync(server.Port, "fromtwo", "pw", IPAddress.Parse("127.0.0.3"))).Code);
        Assert.Equal(2, Requests("fromtwo"));
    }

    [Fact]
    public async Task ACachedAnswer_IsNeverReused_WithoutTls()
    {
        using var certificates = new TempDirectory();
        var (certificate, key) = TestCertificates.CreateTlsFiles(certificates.Path);
        string thumbprint;
        using (var pem = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certificate, key))
        {
            thumbprint = pem.Thumbprint;
        }

        await using var server = await StartAsync(configure: o => (o.Tls.CertificatePath, o.Tls.KeyPath) = (certificate, key));
        using (var tcp = new System.Net.Sockets.TcpClient())
        {
            await tcp.ConnectAsync(server.EndPoint);
            var clear = tcp.GetStream();
            await ReadLineAsync(clear);
            await clear.WriteAsync("AUTH TLS\r\n"u8.ToArray());
            await ReadLineAsync(clear);
            await using var tls = new System.Net.Security.SslStream(clear, leaveInnerStreamOpen: false, (_, c, _, _) => c?.GetCertHashString() == thumbprint);
            await tls.AuthenticateAsClientAsync("127.0.0.1");
            await tls.WriteAsync("USER tlsonly\r\nPASS pw\r\n"u8.ToArray());
            await ReadLineAsync(tls);
            Assert.StartsWith("230 ", await ReadLineAsync(tls), StringComparison.Ordinal);
        }

        Assert.Equal(530, (await LoginAsync(server.Port, "tlsonly", "pw")).Code); // in clear text: asked again, refused
        Assert.Equal(2, Requests("tlsonly"));
    }

    [Fact]
    public async Task AFloodOfWrongPasswords_ReachesTheHookInTurns_AndStopsAtTheBan()
    {
        // 400 wrong logins at once from 127.0.0.2 for names only the hook knows; then a good login from 127.0.0.3.
        await using var server = await StartAsync();
        var flooder = IPAddress.Parse("127.0.0.2");
        var flood = Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            try
            {
                await using var c = await RawFtpClient.ConnectAsync(server.Port, from: flooder);
                await c.SendAsync($"USER guess{i}");
                return (await c.SendAsync("PASS wrong")).Code;
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidDataException)
            {
                return 421; // refused before the greeting: banned
            }
        })).ToList();
        await Poll.UntilAsync(() => RequestsWhere(u => u.StartsWith("guess", StringComparison.Ordinal)) >= 1, "the flood to reach the hook");
        Assert.Equal(230, (await LoginAsync(server.Port, "good", "pw", IPAddress.Parse("127.0.0.3"))).Code);
        var codes = await Task.WhenAll(flood);

        List<string> order;
        lock (_requests)
        {
            order = [.. _requests.Select(r => r.GetProperty("user").GetString()!)];
        }

        Assert.InRange(order.IndexOf("good"), 0, 9); // in its own turn, long before the flood would have ended (it was about 395th)
        // The ban (10 failures) ends the flood's requests: those in flight (4 at most) and the few that start while the
        // 10th failure is being recorded still go out; about 395 did before.
        Assert.InRange(RequestsWhere(u => u.StartsWith("guess", StringComparison.Ordinal)), 10, 20);
        Assert.All(codes, code => Assert.Contains(code, new[] { 530, 421 }));
    }

    private int RequestsWhere(Func<string, bool> user)
    {
        lock (_requests)
        {
            return _requests.Count(r => user(r.GetProperty("user").GetString()!));
        }
    }

    /// <summary>One reply line, read a byte at a time so nothing beyond it is consumed.</summary>
    private static async Task<string> ReadLineAsync(Stream stream)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new EndOfStreamException($"closed after '{line}'");
            }

            line.Append((char)one[0]);
        }

        return line.ToString().TrimEnd();
    }

    [Fact]
    public async Task ASlowHook_Is421_NeverALogin()
    {
        // The hook's Timeout runs on the gateway's clock: the hook has the request, the clock passes the timeout.
        var time = new FakeTimeProvider();
        await using var server = await StartAsync(TimeSpan.FromSeconds(5), hookTime: time);
        var login = LoginAsync(server.Port, "slow", "pw");
        await Poll.UntilAsync(() => Requests("slow") == 1, "the hook asked");
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(421, (await login).Code);
    }

    [Fact]
    public async Task UsersDefinedHere_NeverReachTheHook()
    {
        await using var server = await StartAsync();
        Assert.Equal(230, (await LoginAsync(server.Port, TestServer.UserName, TestServer.Password)).Code);
        Assert.Equal(530, (await LoginAsync(server.Port, TestServer.UserName, "wrong")).Code);
        Assert.Equal(0, Requests(TestServer.UserName));
    }

    public async Task DisposeAsync()
    {
        _slowAnswer.TrySetResult();
        _hooks.ForEach(h => h.Dispose());
        await _hookServer.DisposeAsync();
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace FtpGateway.Ftp.Tests;

/// <summary>The HTTP authentication hook against a real HTTP server on loopback.</summary>
public sealed class AuthHookTests : IAsyncLifetime
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

        var (status, answer) = (request.GetProperty("user").GetString(), request.GetProperty("password").GetString()) switch
        {
            ("good", "pw") => (200, """{ "root": "/hooked/{user}", "maxUploadBytes": 5 }"""),
            ("denied", _) => (403, ""),
            ("down", _) => (500, ""),
            ("garbage", _) => (200, "<html>"),
            ("off", _) => (200, """{ "disabled": true }"""),
            ("fenced", "pw") => (200, """{ "allowedAddresses": ["127.0.0.2/32"] }"""),
            ("slow", _) => (200, "{}"),
            _ => (401, ""),
        };
        if (request.GetProperty("user").GetString() == "slow")
        {
            await Task.Delay(3000);
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

    private async Task<TestServer> StartAsync(TimeSpan? timeout = null)
    {
        var hook = new HttpAuthHook(new AuthHttpOptions { Url = _url, Timeout = timeout ?? TimeSpan.FromSeconds(5) }, NullLogger.Instance);
        _hooks.Add(hook);
        return await TestServer.StartAsync(o => o.LoginFailureDelay = TimeSpan.Zero, authHook: hook);
    }

    private static async Task<WireReply> LoginAsync(int port, string user, string password)
    {
        await using var c = await RawFtpClient.ConnectAsync(port);
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
    public async Task TheHooksAnswer_BecomesTheReply(string user, int code)
    {
        await using var server = await StartAsync();
        Assert.Equal(code, (await LoginAsync(server.Port, user, "pw")).Code);
    }

    [Fact]
    public async Task ASlowHook_Is421_NeverALogin()
    {
        await using var server = await StartAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(421, (await LoginAsync(server.Port, "slow", "pw")).Code);
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
        _hooks.ForEach(h => h.Dispose());
        await _hookServer.DisposeAsync();
    }
}

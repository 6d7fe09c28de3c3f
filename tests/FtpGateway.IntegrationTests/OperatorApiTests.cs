using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FtpGateway.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FtpGateway.IntegrationTests;

/// <summary>The operator API over real HTTP on the management port, with real FTP sessions beside it.</summary>
public sealed class OperatorApiTests : IAsyncLifetime
{
    private const string Token = "op-token-0123456789abcdef";
    private readonly CollectingLoggerFactory _logs = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };
    private Gateway _gateway = null!;

    private static string Sha256(string token) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public async Task InitializeAsync()
    {
        _gateway = await Gateway.StartAsync(
            new Dictionary<string, string?> { ["Management:ApiKeys:0"] = Sha256("another-key-of-someone-else"), ["Management:ApiKeys:1"] = Sha256(Token) },
            b => b.Services.AddSingleton<ILoggerFactory>(_logs));
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _http.Dispose();
    }

    private Uri Api(string path) => new(_gateway.ManagementUrl, path);

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task WithoutAValidToken_EveryRouteAnswers401_AndWithoutKeysThereIsNoApi()
    {
        using var anonymous = new HttpClient();
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/api/sessions"), (HttpMethod.Delete, "/api/sessions/x"), (HttpMethod.Get, "/api/bans"), (HttpMethod.Post, "/api/bans"), (HttpMethod.Delete, "/api/bans/192.0.2.1"), (HttpMethod.Get, "/api/users/device"), (HttpMethod.Post, "/api/users/reload"), (HttpMethod.Get, "/API/sessions"), (HttpMethod.Delete, "/Api/Bans/192.0.2.1") })
        {
            using var none = await anonymous.SendAsync(new HttpRequestMessage(method, Api(path)));
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
            using var wrong = new HttpRequestMessage(method, Api(path));
            wrong.Headers.Authorization = new("Bearer", "not-the-token");
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(wrong)).StatusCode);
        }

        Assert.Contains(_logs.Lines, l => l.Message.Contains("Operator API: no valid key GET /api/sessions from 127.0.0.1: 401", StringComparison.Ordinal));

        // Never on the FTP port: there a request line is just an unknown command.
        await using (var ftp = await RawFtpClient.ConnectAsync(_gateway.Port))
        {
            var reply = await ftp.SendAsync("GET /api/sessions HTTP/1.1");
            Assert.Equal(500, reply.Code);
        }

        // A gateway without keys has no API at all.
        await using var plain = await Gateway.StartAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(new Uri(plain.ManagementUrl, "/api/sessions"))).StatusCode);
    }

    [Fact]
    public async Task Sessions_ShowTheRunningTransfer_AndEndingOneLetsItFinish_OrCutsItWithNow()
    {
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR kept.bin", 150);
        await data.SendAsync(new byte[100_000]);

        string? id = null;
        await Poll.UntilAsync(async () =>
        {
            var sessions = await JsonAsync(await _http.GetAsync(Api("/api/sessions")));
            var session = sessions.EnumerateArray().SingleOrDefault(s => s.GetProperty("transfer").ValueKind == JsonValueKind.Object);
            if (session.ValueKind != JsonValueKind.Object || session.GetProperty("transfer").GetProperty("bytes").GetInt64() < 100_000)
            {
                return false;
            }

            Assert.Equal(Gateway.User, session.GetProperty("user").GetString());
            Assert.Equal("127.0.0.1", session.GetProperty("clientAddress").GetString());
            Assert.Equal("STOR", session.GetProperty("transfer").GetProperty("command").GetString());
            Assert.Equal("/kept.bin", session.GetProperty("transfer").GetProperty("path").GetString());
            Assert.False(session.GetProperty("tls").GetBoolean());
            id = session.GetProperty("id").GetString();
            return true;
        }, "the running STOR in /api/sessions");

        // Without now: the upload finishes and is stored, then 421; a keep-alive meanwhile is answered as usual.
        using var end = await _http.DeleteAsync(Api($"/api/sessions/{id}"));
        Assert.Equal(HttpStatusCode.Accepted, end.StatusCode);
        Assert.Equal(200, (await c.SendAsync("NOOP")).Code);
        await data.SendAsync(new byte[50_000]);
        data.Shutdown(SocketShutdown.Send);
        data.Dispose();
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        var closing = await c.ReadReplyAsync();
        Assert.Equal(421, closing.Code);
        Assert.Contains("ended by the operator", closing.Text, StringComparison.Ordinal);
        Assert.Equal(150_000, new FileInfo(Path.Combine(_gateway.Root.Path, "kept.bin")).Length);

        // With now=true: the upload is cut (426), nothing is stored, then 421.
        await using var d = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        var data2 = await d.OpenPassiveAsync();
        await d.ExpectAsync("STOR cut.bin", 150);
        await data2.SendAsync(new byte[100_000]);
        string? second = null;
        await Poll.UntilAsync(async () =>
        {
            var sessions = await JsonAsync(await _http.GetAsync(Api("/api/sessions")));
            second = sessions.EnumerateArray().Where(s => s.GetProperty("transfer").ValueKind == JsonValueKind.Object).Select(s => s.GetProperty("id").GetString()).SingleOrDefault();
            return second is not null;
        }, "the second STOR");
        Assert.Equal(HttpStatusCode.Accepted, (await _http.DeleteAsync(Api($"/api/sessions/{second}?now=true"))).StatusCode);
        Assert.Equal(426, (await d.ReadReplyAsync()).Code);
        Assert.Equal(421, (await d.ReadReplyAsync()).Code);
        data2.Dispose();
        Assert.False(File.Exists(Path.Combine(_gateway.Root.Path, "cut.bin")));

        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync(Api("/api/sessions/no-such-session"))).StatusCode);
        Assert.Contains(_logs.Lines, l => l.Message.Contains($"Operator API: key 1 DELETE /api/sessions/{second} from 127.0.0.1: 202", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABanThroughTheApi_RefusesTheClient_AndAnUnbanLetsItIn_IPv6ByItsSlash64()
    {
        var client = IPAddress.Parse("127.0.0.5");
        using var ban = await _http.PostAsJsonAsync(Api("/api/bans"), new { address = "127.0.0.5", duration = "10m" });
        Assert.Equal(HttpStatusCode.Created, ban.StatusCode);
        Assert.Equal(600, (await JsonAsync(ban)).GetProperty("remainingSeconds").GetInt64());
        await using (var refused = await RawFtpClient.ConnectAsync(_gateway.Port, from: client))
        {
            Assert.Equal(421, refused.Greeting.Code);
        }

        var bans = await JsonAsync(await _http.GetAsync(Api("/api/bans")));
        Assert.Contains(bans.EnumerateArray(), b => b.GetProperty("address").GetString() == "127.0.0.5" && b.GetProperty("remainingSeconds").GetInt64() > 590);

        Assert.Equal(HttpStatusCode.OK, (await _http.DeleteAsync(Api("/api/bans/127.0.0.5"))).StatusCode);
        await using (var welcome = await RawFtpClient.ConnectAsync(_gateway.Port, from: client))
        {
            Assert.Equal(220, welcome.Greeting.Code);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync(Api("/api/bans/127.0.0.5"))).StatusCode);

        // An IPv6 address bans its /64, and the /64 is lifted in its usual form.
        using var v6 = await _http.PostAsJsonAsync(Api("/api/bans"), new { address = "2001:db8:1:2::99", duration = "PT1H" });
        Assert.Equal(HttpStatusCode.Created, v6.StatusCode);
        Assert.Equal("2001:db8:1:2::/64", (await JsonAsync(v6)).GetProperty("address").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _http.DeleteAsync(Api("/api/bans/2001:db8:1:2::/64"))).StatusCode);

        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsJsonAsync(Api("/api/bans"), new { address = "not-an-address", duration = "1h" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsJsonAsync(Api("/api/bans"), new { address = "192.0.2.1", duration = "forever" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsJsonAsync(Api("/api/bans"), new { address = "192.0.2.1", duration = "20000000d" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsJsonAsync(Api("/api/bans"), new { address = "192.0.2.1", duration = "P20000000D" })).StatusCode);
        using var malformed = new StringContent("{ not json", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsync(Api("/api/bans"), malformed)).StatusCode);
    }

    [Fact]
    public async Task AUser_ShowsItsLastLoginAndUpload_AndTodaysUploads()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using var c = await RawFtpClient.LoginAsync(_gateway.Port, Gateway.User, Gateway.Password);
        Assert.Equal(226, (await c.UploadAsync("STOR a.bin", new byte[1000])).Code);
        Assert.Equal(226, (await c.UploadAsync("STOR b.bin", new byte[234])).Code);
        using var response = await _http.GetAsync(Api($"/api/users/{Gateway.User}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("gateway", response.Headers.GetValues("X-FtpGateway-Scope").Single());
        var user = await JsonAsync(response);
        Assert.InRange(user.GetProperty("lastLogin").GetDateTimeOffset(), before, DateTimeOffset.UtcNow);
        Assert.InRange(user.GetProperty("lastUpload").GetDateTimeOffset(), before, DateTimeOffset.UtcNow);
        Assert.Equal(1, user.GetProperty("sessionsNow").GetInt32());
        Assert.Equal(2, user.GetProperty("uploadsToday").GetInt64());
        Assert.Equal(1234, user.GetProperty("bytesToday").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(Api("/api/users/nobody"))).StatusCode);
    }

    [Fact]
    public async Task ReloadingTheUsersFile_SaysWhetherItWasTaken_WithTheErrorAsTheLogGivesIt()
    {
        using var work = new TempDirectory();
        var file = work.File("users.json");
        await File.WriteAllTextAsync(file, """{ "users": [ { "name": "cam01", "password": "cam-pw-1" } ] }""");
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?> { ["Users:File"] = file, ["Management:ApiKeys:0"] = Sha256(Token) });
        await File.WriteAllTextAsync(file, """{ "users": [ { "name": "cam01", "pasword": "typo" } ] }""");
        using var broken = await _http.PostAsync(new Uri(gateway.ManagementUrl, "/api/users/reload"), null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, broken.StatusCode);
        var error = await JsonAsync(broken);
        Assert.False(error.GetProperty("taken").GetBoolean());
        Assert.Contains("not reloaded, the previous users stay in force", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("pasword", error.GetProperty("error").GetString(), StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, """{ "users": [ { "name": "cam01", "password": "cam-pw-1" }, { "name": "cam02", "password": "cam-pw-2" } ] }""");
        using var taken = await _http.PostAsync(new Uri(gateway.ManagementUrl, "/api/users/reload"), null);
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        var result = await JsonAsync(taken);
        Assert.True(result.GetProperty("taken").GetBoolean());
        Assert.Equal(3, result.GetProperty("users").GetInt32()); // cam01, cam02 and the configured device user
        await using var cam02 = await RawFtpClient.LoginAsync(gateway.Port, "cam02", "cam-pw-2");
    }

    [Fact]
    public async Task TheOpenApiDocument_ListsEveryRouteOfTheApi()
    {
        using var anonymous = new HttpClient();
        var document = JsonDocument.Parse(await anonymous.GetStringAsync(Api("/api/openapi.json"))).RootElement;
        Assert.Equal("3.0.3", document.GetProperty("openapi").GetString());
        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}"))
            .Order(StringComparer.Ordinal).ToList();
        var mapped = _gateway.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal) && e.RoutePattern.RawText != "/api/openapi.json")
            .SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {e.RoutePattern.RawText!.Replace("{**address}", "{address}", StringComparison.Ordinal)}"))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(mapped, documented);
    }
}

using System.Net;
using System.Security.Cryptography.X509Certificates;
using FtpGateway.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The authentication hook over HTTPS, served by Kestrel with a certificate no system store trusts: the
/// gateway logs the device in only when Auth:Http:CaFile names the certificate's issuer.
/// </summary>
public sealed class HttpsAuthHookTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private WebApplication _hook = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        var (certificate, key) = TestCertificates.CreateTlsFiles(_work.Path);
        _port = FreePorts.One();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _port, o => o.UseHttps(X509Certificate2.CreateFromPemFile(certificate, key))));
        _hook = builder.Build();
        _hook.MapPost("/auth", async (HttpRequest request) =>
        {
            var body = await System.Text.Json.JsonDocument.ParseAsync(request.Body);
            return body.RootElement.GetProperty("password").GetString() == "hook-pw"
                ? Results.Text("""{ "root": "/from-hook/{user}", "permissions": "Full" }""", "application/json")
                : Results.StatusCode(StatusCodes.Status401Unauthorized);
        });
        await _hook.StartAsync();
    }

    private async Task<int> LoginCodeAsync(string? caFile)
    {
        var settings = new Dictionary<string, string?> { ["Auth:Http:Url"] = $"https://127.0.0.1:{_port}/auth" };
        if (caFile is not null)
        {
            settings["Auth:Http:CaFile"] = caFile;
        }

        await using var gateway = await Gateway.StartAsync(settings);
        await using var c = await RawFtpClient.ConnectAsync(gateway.Port);
        await c.ExpectAsync("USER field-cam", 331);
        var code = (await c.SendAsync("PASS hook-pw")).Code;
        if (code == 230)
        {
            Assert.Equal(226, (await c.UploadAsync("STOR hello.txt", [1])).Code);
            Assert.True(File.Exists(gateway.Root.File("from-hook/field-cam/hello.txt")));
        }

        return code;
    }

    [Fact]
    public async Task AnHttpsHook_IsTrustedThroughItsCaFile_AndNotWithoutIt()
    {
        Assert.Equal(230, await LoginCodeAsync(Path.Combine(_work.Path, "tls.crt")));
        Assert.Equal(421, await LoginCodeAsync(null)); // not trusted: "try later", never a login
    }

    public async Task DisposeAsync()
    {
        await _hook.StopAsync();
        await _hook.DisposeAsync();
        _work.Dispose();
    }
}

/// <summary>A hook written with Python's http.server, which reads a body only by its Content-Length.</summary>
public sealed class PythonAuthHookTests
{
    [Fact]
    public async Task AMinimalPythonHook_ReadsTheRequestAndLogsTheDeviceIn()
    {
        // Regression: the request was sent chunked, without a Content-Length; such a hook read an empty body and
        // refused everyone.
        var port = FreePorts.One();
        await using var hook = await ExternalProcess.StartAsync("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "clients", "auth_hook.py"), port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(20), () => null);
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?> { ["Auth:Http:Url"] = $"http://127.0.0.1:{port}/auth" });
        await using var c = await RawFtpClient.ConnectAsync(gateway.Port);
        await c.ExpectAsync("USER py-cam", 331);
        await c.ExpectAsync("PASS py-pw", 230);
        Assert.Equal(226, (await c.UploadAsync("STOR snap.jpg", [1, 2, 3])).Code);
        Assert.True(File.Exists(gateway.Root.File("py/py-cam/snap.jpg")));
        await using var wrong = await RawFtpClient.ConnectAsync(gateway.Port);
        await wrong.ExpectAsync("USER py-cam", 331);
        await wrong.ExpectAsync("PASS nope", 530);
    }
}

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
                ? Results.Text("""{ "root": "/from-hook/{user}" }""", "application/json")
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

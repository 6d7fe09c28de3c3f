using FtpGateway.Ftp;
using FtpGateway.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace FtpGateway.IntegrationTests;

/// <summary>The real gateway host (the same composition root as the executable) on a free port.</summary>
public sealed class Gateway : IAsyncDisposable
{
    public const string User = "device";
    public const string Password = "d3v1ce-pw";

    private readonly Microsoft.AspNetCore.Builder.WebApplication _host;

    private Gateway(Microsoft.AspNetCore.Builder.WebApplication host, TempDirectory root)
    {
        _host = host;
        Root = root;
    }

    public TempDirectory Root { get; }

    public int Port => _host.Services.GetRequiredService<FtpServer>().LocalEndPoint!.Port;

    /// <summary>The implicit-FTPS port (Ftp:Tls:ImplicitPort=0 picks a free one).</summary>
    public int ImplicitTlsPort => _host.Services.GetRequiredService<FtpServer>().ImplicitTlsEndPoint!.Port;

    public string Url => $"ftp://127.0.0.1:{Port}";

    public string UserUrl => $"ftp://{User}:{Password}@127.0.0.1:{Port}";

    /// <summary>The management endpoint's base address (health, readiness, metrics).</summary>
    public Uri ManagementUrl => new(_host.Urls.First());

    public IServiceProvider Services => _host.Services;

    /// <summary>Stops the host as SIGTERM does (graceful drain), without disposing anything.</summary>
    public Task StopAsync() => _host.StopAsync();

    /// <param name="settings">configuration on top of the defaults (a free port, local disk, one user).</param>
    /// <param name="configure">last changes to the builder, e.g. an in-memory trace exporter.</param>
    public static async Task<Gateway> StartAsync(IDictionary<string, string?>? settings = null, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
    {
        var root = new TempDirectory();
        var config = new Dictionary<string, string?>
        {
            ["Ftp:Port"] = "0",
            ["Ftp:ListenAddress"] = "127.0.0.1",
            ["Ftp:LoginFailureDelay"] = "00:00:00.05",
            ["Ftp:DrainTimeout"] = "00:00:02",
            ["Management:Port"] = "0",
            ["Management:ListenAddress"] = "127.0.0.1",
            ["Storage:Provider"] = "FileSystem",
            ["Storage:FileSystem:Root"] = root.Path,
            ["Users:0:Name"] = User,
            ["Users:0:Password"] = Password,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var builder = GatewayHost.CreateBuilder([], config);
        configure?.Invoke(builder);
        var host = GatewayHost.Build(builder);
        await host.StartAsync();
        return new Gateway(host, root);
    }

    /// <summary>
    /// clients/ftplib_scenario.py (Python's ftplib) through this gateway: <paramref name="mode"/> passive|active,
    /// <paramref name="security"/> plain|tls|implicit (implicit FTPS, on <see cref="ImplicitTlsPort"/>).
    /// </summary>
    public Task<ExternalProcess.Result> RunFtplibScenarioAsync(string mode, string security) =>
        ExternalProcess.RunAsync(ExternalProcess.Require("python3"),
            [
                Path.Combine(AppContext.BaseDirectory, "clients", "ftplib_scenario.py"),
                (security == "implicit" ? ImplicitTlsPort : Port).ToString(System.Globalization.CultureInfo.InvariantCulture),
                User, Password, mode, security,
            ]);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        await _host.DisposeAsync();
        Root.Dispose();
    }
}

using FtpGateway.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace FtpGateway.IntegrationTests;

/// <summary>The host's OpenTelemetry wiring: exported when configured, absent (no cost) when not.</summary>
public sealed class HostTelemetryTests
{
    private static Microsoft.AspNetCore.Builder.WebApplicationBuilder Builder(TempDirectory root, Dictionary<string, string?> extra)
    {
        var config = new Dictionary<string, string?>
        {
            ["Ftp:Port"] = "0",
            ["Ftp:ListenAddress"] = "127.0.0.1",
            ["Management:Port"] = "0",
            ["Management:ListenAddress"] = "127.0.0.1",
            ["Storage:FileSystem:Root"] = root.Path,
            ["Users:0:Name"] = "otel",
            ["Users:0:Password"] = "otel-pw",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in extra)
        {
            config[k] = v;
        }

        return GatewayHost.CreateBuilder([], config);
    }

    [Fact]
    public async Task WithAnExporterConfigured_TheSessionSpansAreExported()
    {
        using var root = new TempDirectory();
        var spans = new ExportedSpans();
        var builder = Builder(root, new() { ["Telemetry:Console"] = "true" });
        builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans));
        await using var host = GatewayHost.Build(builder);
        await host.StartAsync();
        var port = host.Services.GetRequiredService<FtpGateway.Ftp.FtpServer>().LocalEndPoint!.Port;
        await using (var c = await RawFtpClient.LoginAsync(port, "otel", "otel-pw"))
        {
            await c.ExpectAsync("MKD exported", 257);
            await c.ExpectAsync("QUIT", 221);
        }

        await Poll.UntilAsync(() => host.Services.GetRequiredService<FtpGateway.Ftp.FtpServer>().ActiveSessions == 0, "the session to end");
        await host.StopAsync();
        host.Services.GetRequiredService<TracerProvider>().ForceFlush();
        var exported = spans.Snapshot();
        Assert.Contains(exported, a => a.OperationName == "ftp MKD" && (string?)a.GetTagItem("ftp.argument") == "exported");
        Assert.Contains(exported, a => a.OperationName == "ftp.session" && (string?)a.GetTagItem("enduser.id") == "otel");
        Assert.Contains(exported, a => a.OperationName == "storage create_directory");
    }

    [Fact]
    public async Task WithoutAnExporter_NoTracingPipelineIsRegistered()
    {
        using var root = new TempDirectory();
        await using var host = GatewayHost.Build(Builder(root, []));
        Assert.Null(host.Services.GetService<TracerProvider>());
    }
}

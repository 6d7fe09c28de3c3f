using System.Security.Cryptography;
using FtpGateway.Ftp;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using FtpGateway.Storage.AzureBlob;
using FtpGateway.Storage.FileSystem;
using FtpGateway.Storage.S3;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FtpGateway;

/// <summary>The composition root: configuration → options → storage provider → FTP server.</summary>
public static class GatewayHost
{
    /// <summary>
    /// A host builder with everything registered. <paramref name="settings"/> are added on top of the standard
    /// sources (appsettings.json, environment, command line) before anything reads the configuration.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args, IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Services.AddSingleton(sp => CreateStorage(sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddHostedService<StorageStartupCheck>(); // before the FTP listener: fail fast
        builder.Services.AddFtpServer(builder.Configuration);
        builder.Services.AddSingleton(sp => CreateUsers(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<ILoggerFactory>()));
        AddTelemetry(builder);
        return builder;
    }

    /// <summary>
    /// OpenTelemetry export of the "FtpGateway" spans and metrics (and the Azure SDK's spans underneath), over
    /// OTLP when the standard OTEL_EXPORTER_OTLP_ENDPOINT is set, to the console with Telemetry:Console=true.
    /// With neither, nothing is registered: no listener, and the instrumentation costs nothing.
    /// </summary>
    private static void AddTelemetry(HostApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var console = builder.Configuration.GetValue<bool>("Telemetry:Console");
        if (!otlp && !console)
        {
            return;
        }

        AppContext.SetSwitch("Azure.Experimental.EnableActivitySource", true);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? FtpTelemetry.Name))
            .WithTracing(tracing =>
            {
                tracing.AddSource(FtpTelemetry.Name, "Azure.*");
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }

                if (console)
                {
                    tracing.AddConsoleExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(FtpTelemetry.Name);
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }

                if (console)
                {
                    metrics.AddConsoleExporter();
                }
            });
    }

    /// <summary>Picks the provider named by <c>Storage:Provider</c>.</summary>
    public static IStorageProvider CreateStorage(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var name = configuration["Storage:Provider"];
        if (string.IsNullOrWhiteSpace(name) || name.Equals("FileSystem", StringComparison.OrdinalIgnoreCase))
        {
            var options = configuration.GetSection(FileSystemStorageOptions.SectionName).Get<FileSystemStorageOptions>() ?? new FileSystemStorageOptions();
            if (string.IsNullOrWhiteSpace(options.Root))
            {
                throw new InvalidOperationException("Storage:FileSystem:Root must not be empty");
            }

            return new FileSystemStorageProvider(options);
        }

        if (name.Equals("S3", StringComparison.OrdinalIgnoreCase))
        {
            var options = configuration.GetSection(S3StorageOptions.SectionName).Get<S3StorageOptions>() ?? new S3StorageOptions();
            var errors = options.Validate();
            return errors.Count == 0 ? new S3StorageProvider(options) : throw new InvalidOperationException(string.Join("; ", errors));
        }

        if (name.Equals("AzureBlob", StringComparison.OrdinalIgnoreCase))
        {
            var options = configuration.GetSection(AzureBlobStorageOptions.SectionName).Get<AzureBlobStorageOptions>() ?? new AzureBlobStorageOptions();
            var errors = options.Validate();
            return errors.Count == 0 ? new AzureBlobStorageProvider(options) : throw new InvalidOperationException(string.Join("; ", errors));
        }

        throw new InvalidOperationException($"Storage:Provider '{name}' is unknown; use FileSystem, S3 or AzureBlob.");
    }

    private static UserDirectory CreateUsers(IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        var users = FtpServiceCollectionExtensions.CreateUserDirectory(configuration);
        if (users.Count > 0 || users.AnonymousEnabled)
        {
            return users;
        }

        // First run with no configuration: a one-time password, never a well-known one.
        var password = RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 16);
        loggerFactory.CreateLogger("FtpGateway").LogWarning("No users are configured: created user 'demo' with a one-time password (printed on standard output)");
        Console.WriteLine($"FtpGateway: no users configured. Log in as 'demo' with password '{password}' (valid until the gateway stops; configure Users to replace it).");
        return FtpServiceCollectionExtensions.CreateUserDirectory(configuration, [new UserOptions { Name = "demo", Password = password }]);
    }
}

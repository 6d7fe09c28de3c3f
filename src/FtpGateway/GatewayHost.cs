using System.Security.Cryptography;
using FtpGateway.Ftp;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using FtpGateway.Storage.AzureBlob;
using FtpGateway.Storage.FileSystem;
using FtpGateway.Storage.S3;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FtpGateway;

/// <summary>The composition root: configuration → options → storage provider → FTP server.</summary>
public static class GatewayHost
{
    /// <summary>
    /// A host builder with everything registered. Registrations read configuration when first resolved,
    /// so callers (tests) may still add configuration sources to the returned builder.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Services.AddSingleton(sp => CreateStorage(sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddHostedService<StorageStartupCheck>(); // before the FTP listener: fail fast
        builder.Services.AddFtpServer(builder.Configuration);
        builder.Services.AddSingleton(sp => CreateUsers(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<ILoggerFactory>()));
        return builder;
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

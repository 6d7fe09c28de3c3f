using FtpGateway.Ftp.Users;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FtpGateway.Ftp;

public static class FtpServiceCollectionExtensions
{
    /// <summary>Registers the FTP server (its options and the Security options validated at start-up).</summary>
    public static IServiceCollection AddFtpServer(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FtpServerOptions>().Bind(configuration.GetSection(FtpServerOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FtpServerOptions>, FtpServerOptionsValidator>();
        services.AddOptions<Security.SecurityOptions>().Bind(configuration.GetSection(Security.SecurityOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Security.SecurityOptions>, Security.SecurityOptionsValidator>();
        services.AddSingleton(sp => new Telemetry.FtpTelemetry(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<FtpServer>();
        services.AddHostedService(sp => sp.GetRequiredService<FtpServer>());
        return services;
    }

    /// <summary>Reads <c>Users</c> and <c>Anonymous</c>; an invalid entry stops start-up with a message naming it.</summary>
    public static UserDirectory CreateUserDirectory(IConfiguration configuration, IList<UserOptions>? extraUsers = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var users = configuration.GetSection("Users").Get<List<UserOptions>>() ?? [];
        if (extraUsers is not null)
        {
            users.AddRange(extraUsers);
        }

        var anonymous = configuration.GetSection(AnonymousOptions.SectionName).Get<AnonymousOptions>() ?? new AnonymousOptions();
        return new UserDirectory(users, anonymous);
    }
}

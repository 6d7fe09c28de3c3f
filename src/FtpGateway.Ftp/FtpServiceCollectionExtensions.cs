using FtpGateway.Ftp.Users;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FtpGateway.Ftp;

public static class FtpServiceCollectionExtensions
{
    /// <summary>Registers the FTP server (its options and the Security options validated at start-up).</summary>
    public static IServiceCollection AddFtpServer(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FtpServerOptions>().Bind(configuration.GetSection(FtpServerOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FtpServerOptions>, OptionsValidator<FtpServerOptions>>();
        services.AddOptions<Security.SecurityOptions>().Bind(configuration.GetSection(Security.SecurityOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Security.SecurityOptions>, OptionsValidator<Security.SecurityOptions>>();
        var telemetry = (configuration.GetSection(Telemetry.TelemetryOptions.SectionName).Get<Telemetry.TelemetryOptions>() ?? new Telemetry.TelemetryOptions()).ThrowIfInvalid();

        services.AddSingleton(sp => new Telemetry.FtpTelemetry(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(), telemetry, sp.GetService<TimeProvider>()));
        var auth = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
        auth.Http.ThrowIfInvalid();

        if (!string.IsNullOrWhiteSpace(auth.Http.Url))
        {
            services.AddSingleton(sp => new HttpAuthHook(auth.Http, sp.GetRequiredService<ILoggerFactory>().CreateLogger("FtpGateway.Ftp.AuthHook"), sp.GetService<TimeProvider>()));
        }

        var audit = configuration.GetSection(Audit.AuditOptions.SectionName).Get<Audit.AuditOptions>() ?? new Audit.AuditOptions();
        services.AddSingleton(sp => new Audit.AuditTrail(audit, sp.GetRequiredService<ILoggerFactory>()));
        var events = (configuration.GetSection(Events.EventOptions.SectionName).Get<Events.EventOptions>() ?? new Events.EventOptions()).ThrowIfInvalid();

        if (events.Webhooks.Count > 0 || events.IgnorePaths.Count > 0)
        {
            services.AddSingleton(sp => new Events.EventPublisher(events, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<Telemetry.FtpTelemetry>(), sp.GetService<TimeProvider>()));
        }

        var scanning = configuration.GetSection(Checks.ScanningOptions.SectionName).Get<Checks.ScanningOptions>() ?? new Checks.ScanningOptions();
        if (scanning.Validate().ToList() is { Count: > 0 } scanningErrors)
        {
            throw new InvalidOperationException(string.Join("; ", scanningErrors));
        }

        services.AddSingleton(sp => new FtpServer(
            sp.GetRequiredService<IOptions<FtpServerOptions>>(),
            sp.GetRequiredService<FtpGateway.Storage.IStorageProvider>(),
            sp.GetRequiredService<UserStore>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetService<Telemetry.FtpTelemetry>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<IOptions<Security.SecurityOptions>>(),
            sp.GetService<HttpAuthHook>(),
            sp.GetService<StorageTargets>(),
            sp.GetService<Audit.AuditTrail>(),
            sp.GetService<Events.EventPublisher>(),
            sp.GetService<State.IFleetState>(),
            scanning));
        services.AddHostedService(sp => sp.GetRequiredService<FtpServer>());
        return services;
    }

    /// <summary>
    /// Reads <c>Users:N</c>, <c>Users:File</c> (the users file, reloaded while the gateway runs) and
    /// <c>Anonymous</c>; an invalid entry stops start-up with a message naming it.
    /// </summary>
    internal static UserStore CreateUserStore(
        IConfiguration configuration, ILoggerFactory loggerFactory, Telemetry.FtpTelemetry telemetry, IList<UserOptions>? extraUsers = null, TimeProvider? time = null, StorageTargets? targets = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var users = ConfiguredUsers(configuration);
        if (extraUsers is not null)
        {
            users.AddRange(extraUsers);
        }

        var anonymous = configuration.GetSection(AnonymousOptions.SectionName).Get<AnonymousOptions>() ?? new AnonymousOptions();
        return new UserStore(
            users, anonymous, configuration[UsersFileKey], time ?? TimeProvider.System, loggerFactory.CreateLogger("FtpGateway.Ftp.Users"), telemetry,
            targets?.All.Keys.ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>The key of the users file.</summary>
    public const string UsersFileKey = "Users:File";

    /// <summary>The <c>Users:N</c> entries, in order (the <c>Users:File</c> key beside them is not one).</summary>
    public static List<UserOptions> ConfiguredUsers(IConfiguration configuration) =>
        [.. (configuration ?? throw new ArgumentNullException(nameof(configuration))).GetSection("Users").GetChildren()
            .Where(c => int.TryParse(c.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            .OrderBy(c => int.Parse(c.Key, System.Globalization.CultureInfo.InvariantCulture))
            .Select(c => c.Get<UserOptions>() ?? new UserOptions())];
}

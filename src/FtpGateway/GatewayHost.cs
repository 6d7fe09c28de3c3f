using System.Security.Cryptography;
using FtpGateway.Ftp;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.State.Redis;
using FtpGateway.Storage;
using FtpGateway.Storage.AzureBlob;
using FtpGateway.Storage.FileSystem;
using FtpGateway.Storage.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FtpGateway;

/// <summary>Whether the host has started: until then a failure is Program's one line, not a host log entry.</summary>
internal sealed class StartupState
{
    public volatile bool Started;
}

/// <summary>The composition root: configuration → options → storage provider → FTP server.</summary>
public static class GatewayHost
{
    /// <summary>
    /// A host builder with everything registered: the FTP server, the storage, and the management endpoint
    /// (health, readiness, metrics) in one container. <paramref name="settings"/> are added on top of the
    /// standard sources (appsettings.json, environment, command line) before anything reads the configuration.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, IDictionary<string, string?>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var (configFile, rest) = ConfigFileArgument(args);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = rest,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (configFile is not null)
        {
            AddConfigFile(builder.Configuration, configFile);
        }

        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        ConfigurationCheck.ThrowOnUnknownKeys(builder.Configuration);
        ConfigurationCheck.ThrowOnPortConflicts(builder.Configuration);

        // A start that fails is one line on standard error, written by Program: not the host's own stack trace too.
        // Once started, the host's errors are logged as usual.
        var startup = new StartupState();
        builder.Services.AddSingleton(startup);
        builder.Services.TryAddSingleton(TimeProvider.System); // one clock for the whole gateway (tests give a fake one)
        // A rule for that one category, at its configured level once started: a rule for every category replaced
        // Logging:LogLevel:Default (the last of equally specific rules wins), and every command was logged at
        // Debug whatever the configuration.
        const string host = "Microsoft.Extensions.Hosting.Internal.Host";
        var hostLevel = ConfiguredLevel(builder.Configuration, host);
        builder.Logging.AddFilter(host, level => level >= (startup.Started ? hostLevel : LogLevel.Critical));

        // Logging:Format=json: one JSON object per line, with the session scope (session id, client address).
        if (string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o => o.IncludeScopes = true);
        }

        builder.Services.AddSingleton(sp => CreateStorage(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => CreateTargets(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<IStorageProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        var probeTimeout = builder.Configuration.GetValue<TimeSpan?>(StorageStartupCheck.ProbeTimeoutKey) ?? TimeSpan.FromSeconds(30);
        if (probeTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{StorageStartupCheck.ProbeTimeoutKey} must be positive");
        }

        builder.Services.AddHostedService(sp => new StorageStartupCheck(sp.GetRequiredService<StorageTargets>(), sp.GetRequiredService<ILogger<StorageStartupCheck>>(), probeTimeout, sp.GetRequiredService<TimeProvider>())); // before the FTP listener: fail fast
        builder.Services.AddFleetState(builder.Configuration); // State:Redis, before the FTP server that uses it
        builder.Services.AddFtpServer(builder.Configuration);
        var management = builder.Configuration.GetSection(ManagementOptions.SectionName).Get<ManagementOptions>() ?? new ManagementOptions();
        if (management.StorageProbeInterval < TimeSpan.FromSeconds(1))
        {
            throw new InvalidOperationException("Management:StorageProbeInterval must be at least 00:00:01");
        }

        builder.Services.AddSingleton(management);
        builder.Services.AddSingleton(Api.ApiKeys.Parse(management.ApiKeys)); // an invalid key stops the start, named
        builder.Services.AddHostedService<StorageHealth>();
        builder.Services.AddSingleton(sp => CreateUsers(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<FtpTelemetry>(), sp.GetRequiredService<StorageTargets>(), sp.GetRequiredService<TimeProvider>()));

        // The host must wait for the drain (default 30 s) and a little more before it gives up on stopping.
        var drain = builder.Configuration.GetValue<TimeSpan?>("Ftp:DrainTimeout") ?? new FtpServerOptions().DrainTimeout;
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = drain + TimeSpan.FromSeconds(15));

        // The management endpoint has its own port, never the FTP port (probes must not count as FTP sessions).
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var management = context.Configuration.GetSection(ManagementOptions.SectionName).Get<ManagementOptions>() ?? new ManagementOptions();
            kestrel.Listen(System.Net.IPAddress.Parse(management.ListenAddress), management.Port);
        });
        AddTelemetry(builder);
        return builder;
    }

    /// <summary>
    /// The level <c>Logging:LogLevel</c> gives <paramref name="category"/>, as the logging rules choose it: the
    /// longest configured prefix of the category (at a dot), else Default, else Information.
    /// </summary>
    private static LogLevel ConfiguredLevel(ConfigurationManager configuration, string category)
    {
        var levels = configuration.GetSection("Logging:LogLevel");
        for (var name = category; name.Length > 0; name = name.Contains('.', StringComparison.Ordinal) ? name[..name.LastIndexOf('.')] : string.Empty)
        {
            if (Enum.TryParse<LogLevel>(levels[name], ignoreCase: true, out var level))
            {
                return level;
            }
        }

        return Enum.TryParse<LogLevel>(levels["Default"], ignoreCase: true, out var fallback) ? fallback : LogLevel.Information;
    }

    /// <summary><c>--config PATH</c> (or <c>--config=PATH</c>): a JSON configuration file anywhere; the other arguments.</summary>
    private static (string? File, string[] Others) ConfigFileArgument(string[] args)
    {
        string? file = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config")
            {
                file = i + 1 < args.Length ? args[++i] : throw new InvalidOperationException("--config needs the path of a JSON configuration file");
            }
            else if (args[i].StartsWith("--config=", StringComparison.Ordinal))
            {
                file = args[i]["--config=".Length..];
            }
            else
            {
                rest.Add(args[i]);
            }
        }

        return (file, [.. rest]);
    }

    /// <summary>
    /// The --config file, in the place of appsettings.json's precedence: above it, below environment variables and
    /// the command line (so a container's environment still wins). A missing or invalid file stops the start.
    /// </summary>
    private static void AddConfigFile(ConfigurationManager configuration, string file)
    {
        var path = Path.GetFullPath(file);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"--config '{file}': the file does not exist");
        }

        var sources = (IList<IConfigurationSource>)configuration.Sources;
        var environment = sources.Select((s, i) => (s, i)).FirstOrDefault(x => x.s is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource && ((Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource)x.s).Prefix is null or "");
        var source = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = Path.GetFileName(path), Optional = false, ReloadOnChange = false };
        source.FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetDirectoryName(path)!);
        try
        {
            if (environment.s is not null)
            {
                sources.Insert(environment.i, source);
            }
            else
            {
                sources.Add(source);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidOperationException($"--config '{file}' is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Builds the host and maps the management routes.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", ReadyAsync);
        app.MapPrometheusScrapingEndpoint("/metrics");
        Api.OperatorApi.Map(app, app.Services.GetRequiredService<Api.ApiKeys>());
        return app;
    }

    /// <summary>
    /// Ready when the FTP listener accepts and every target of Management:ReadinessTargets answers a cheap probe
    /// (none by default: a store only some users use must not take the pod out of service for all of them).
    /// </summary>
    private static async Task<IResult> ReadyAsync(FtpServer server, StorageTargets targets, ManagementOptions management, TimeProvider time, CancellationToken cancellationToken)
    {
        if (server.IsDraining)
        {
            return Results.Text("not ready: draining for shutdown\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (server.LocalEndPoint is null)
        {
            return Results.Text("not ready: the FTP listener is not open\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        // The listed targets at once, within the same 5 s: a probe per target, not one after the other.
        var listed = targets.All.Where(t => management.ReadinessTargets.Contains(t.Key, StringComparer.Ordinal));
        if ((await StorageHealth.ProbeAsync(listed, TimeSpan.FromSeconds(5), time, cancellationToken)).FirstOrDefault() is { } failed)
        {
            var which = failed == StorageTargets.Default ? targets.All[failed].Name : $"target {failed} ({targets.All[failed].Name})";
            return Results.Text($"not ready: storage {which} does not answer\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return Results.Text("ready\n");
    }

    /// <summary>
    /// OpenTelemetry. Metrics always feed the Prometheus scraping endpoint (/metrics) and, when the standard
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set, OTLP. Traces ("FtpGateway" spans, with the Azure SDK's spans
    /// underneath) are exported over OTLP, or to the console with Telemetry:Console=true; with neither, no
    /// tracing pipeline is registered and spans cost nothing.
    /// </summary>
    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var console = builder.Configuration.GetValue<bool>("Telemetry:Console");
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? FtpTelemetry.Name))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(FtpTelemetry.Name).AddPerUserViews(telemetry).AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }

                if (console)
                {
                    metrics.AddConsoleExporter();
                }
            });
        if (!otlp && !console)
        {
            return;
        }

        AppContext.SetSwitch("Azure.Experimental.EnableActivitySource", true);
        otel.WithTracing(tracing =>
        {
            tracing.AddSource(FtpTelemetry.Name, "Azure.*", "AWSSDK.*");
            if (otlp)
            {
                tracing.AddOtlpExporter();
            }

            if (console)
            {
                tracing.AddConsoleExporter();
            }
        });
    }

    /// <summary>
    /// Room for the per-user series: OpenTelemetry keeps 2,000 series per instrument unless told otherwise, which
    /// would fold the users beyond into one overflow series and blind the device-silence alert.
    /// </summary>
    internal static MeterProviderBuilder AddPerUserViews(this MeterProviderBuilder metrics, TelemetryOptions options) =>
        !options.PerUserMetrics ? metrics : metrics
            .AddView("ftpgateway.user.uploads", new MetricStreamConfiguration { CardinalityLimit = UserActivity.CardinalityLimit(options) })
            .AddView("ftpgateway.user.last_upload.time", new MetricStreamConfiguration { CardinalityLimit = UserActivity.CardinalityLimit(options) });

    /// <summary>Picks the provider named by <c>Storage:Provider</c>.</summary>
    public static IStorageProvider CreateStorage(IConfiguration configuration, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return CreateStorage(configuration.GetSection("Storage"), loggerFactory, time ?? TimeProvider.System);
    }

    /// <summary>
    /// The provider a storage section names (<c>Storage</c> or <c>Storage:Targets:&lt;name&gt;</c>): the same keys in
    /// both, <c>Provider</c>, <c>FileSystem:*</c>, <c>S3:*</c>, <c>AzureBlob:*</c>. Errors name the section.
    /// </summary>
    private static IStorageProvider CreateStorage(IConfigurationSection section, ILoggerFactory loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var name = section["Provider"];
        try
        {
            if (string.IsNullOrWhiteSpace(name) || name.Equals("FileSystem", StringComparison.OrdinalIgnoreCase))
            {
                var options = section.GetSection("FileSystem").Get<FileSystemStorageOptions>() ?? new FileSystemStorageOptions();
                if (string.IsNullOrWhiteSpace(options.Root))
                {
                    throw new InvalidOperationException($"{section.Path}:FileSystem:Root must not be empty");
                }

                return new FileSystemStorageProvider(options, loggerFactory.CreateLogger("FtpGateway.Storage.FileSystem"), time);
            }

            if (name.Equals("S3", StringComparison.OrdinalIgnoreCase))
            {
                // The provider validates its options and throws, naming the keys.
                return S3Storage.Create(section.GetSection("S3").Get<S3StorageOptions>() ?? new S3StorageOptions(), loggerFactory.CreateLogger("FtpGateway.Storage.S3"), time);
            }

            if (name.Equals("AzureBlob", StringComparison.OrdinalIgnoreCase))
            {
                return AzureBlobStorage.Create(section.GetSection("AzureBlob").Get<AzureBlobStorageOptions>() ?? new AzureBlobStorageOptions(), loggerFactory.CreateLogger("FtpGateway.Storage.AzureBlob"), time);
            }
        }
        catch (Exception ex) when (section.Path != "Storage" && ex is InvalidOperationException or ArgumentException)
        {
            throw new InvalidOperationException($"{section.Path}: {ex.Message}", ex);
        }

        throw new InvalidOperationException($"{section.Path}:Provider '{name}' is unknown; use FileSystem, S3 or AzureBlob.");
    }

    /// <summary>The default storage and every <c>Storage:Targets:&lt;name&gt;</c>.</summary>
    private static StorageTargets CreateTargets(IConfiguration configuration, IStorageProvider defaultStorage, ILoggerFactory loggerFactory, TimeProvider time)
    {
        var targets = new StorageTargets(defaultStorage, configuration.GetSection("Storage:Targets").GetChildren()
            .ToDictionary(t => t.Key, t => CreateStorage(t, loggerFactory, time), StringComparer.Ordinal));
        var readiness = configuration.GetSection("Management:ReadinessTargets").Get<List<string>>() ?? [];
        for (var i = 0; i < readiness.Count; i++)
        {
            if (!targets.All.ContainsKey(readiness[i]))
            {
                throw new InvalidOperationException($"Management:ReadinessTargets:{i} '{readiness[i]}' is not a storage target (default, or a name of Storage:Targets)");
            }
        }

        return targets;
    }

    private static UserStore CreateUsers(IConfiguration configuration, ILoggerFactory loggerFactory, FtpTelemetry telemetry, StorageTargets targets, TimeProvider time)
    {
        var users = FtpServiceCollectionExtensions.CreateUserStore(configuration, loggerFactory, telemetry, time: time, targets: targets);
        var file = configuration[FtpServiceCollectionExtensions.UsersFileKey];
        if (users.Current.Count > 0 || users.Current.AnonymousEnabled || !string.IsNullOrWhiteSpace(file))
        {
            if (users.Current.Count == 0 && !users.Current.AnonymousEnabled && string.IsNullOrWhiteSpace(configuration["Auth:Http:Url"]))
            {
                FtpGateway.Ftp.Users.UserStore.WarnNoUsers(loggerFactory, file!);
            }

            return users;
        }

        // First run with no configuration: a one-time password, never a well-known one.
        users.Dispose();
        var password = RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 16);
        loggerFactory.CreateLogger("FtpGateway").LogWarning("No users are configured: created user 'demo' with a one-time password (printed on standard output)");
        Console.WriteLine($"FtpGateway: no users configured. Log in as 'demo' with password '{password}' (valid until the gateway stops; configure Users to replace it).");
        return FtpServiceCollectionExtensions.CreateUserStore(configuration, loggerFactory, telemetry, [new UserOptions { Name = "demo", Password = password }], targets: targets);
    }
}

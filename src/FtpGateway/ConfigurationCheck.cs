using System.Reflection;
using FtpGateway.Ftp;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage.AzureBlob;
using FtpGateway.Storage.FileSystem;
using FtpGateway.Storage.S3;
using Microsoft.Extensions.Configuration;

namespace FtpGateway;

/// <summary>
/// Refuses configuration keys the gateway does not know inside its own sections (<c>Ftp</c>, <c>Storage</c>,
/// <c>Users</c>, <c>Anonymous</c>, <c>Management</c>, <c>Security</c>, <c>State</c>, ...). The binder silently ignores them, so a typo such as
/// <c>Ftp__PasivePortRange</c> in a Kubernetes manifest would otherwise run the gateway with a default nobody
/// asked for; here it stops start-up with the key's name.
/// </summary>
internal static class ConfigurationCheck
{
    private static readonly Dictionary<string, Type> StorageSections = new(StringComparer.OrdinalIgnoreCase)
    {
        ["FileSystem"] = typeof(FileSystemStorageOptions),
        ["S3"] = typeof(S3StorageOptions),
        ["AzureBlob"] = typeof(AzureBlobStorageOptions),
    };

    public static void ThrowOnUnknownKeys(IConfiguration configuration)
    {
        var unknown = new List<string>();
        var invalid = new List<string>();
        Walk(configuration.GetSection(FtpServerOptions.SectionName), typeof(FtpServerOptions), unknown, invalid);
        Walk(configuration.GetSection(ManagementOptions.SectionName), typeof(ManagementOptions), unknown, invalid);
        Walk(configuration.GetSection(FtpGateway.Ftp.Security.SecurityOptions.SectionName), typeof(FtpGateway.Ftp.Security.SecurityOptions), unknown, invalid);
        Walk(configuration.GetSection(AuthOptions.SectionName), typeof(AuthOptions), unknown, invalid);
        Walk(configuration.GetSection(FtpGateway.Ftp.Audit.AuditOptions.SectionName), typeof(FtpGateway.Ftp.Audit.AuditOptions), unknown, invalid);
        Walk(configuration.GetSection(FtpGateway.Ftp.Events.EventOptions.SectionName), typeof(FtpGateway.Ftp.Events.EventOptions), unknown, invalid);
        Walk(configuration.GetSection(AnonymousOptions.SectionName), typeof(AnonymousOptions), unknown, invalid);
        Walk(configuration.GetSection(FtpGateway.Ftp.Telemetry.TelemetryOptions.SectionName), typeof(FtpGateway.Ftp.Telemetry.TelemetryOptions), unknown, invalid);
        Walk(configuration.GetSection(FtpGateway.State.Redis.StateOptions.SectionName), typeof(FtpGateway.State.Redis.StateOptions), unknown, invalid);
        Walk(configuration.GetSection(FtpGateway.Ftp.Checks.ScanningOptions.SectionName), typeof(FtpGateway.Ftp.Checks.ScanningOptions), unknown, invalid);
        foreach (var user in configuration.GetSection("Users").GetChildren())
        {
            if (!int.TryParse(user.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                if (!user.Key.Equals("File", StringComparison.OrdinalIgnoreCase))
                {
                    unknown.Add(user.Path); // Users:N entries and Users:File only
                }

                continue;
            }

            Walk(user, typeof(UserOptions), unknown, invalid);
        }

        WalkStorage(configuration.GetSection("Storage"), unknown, invalid, allowTargets: true);

        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"Unknown configuration key{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown)}: check the spelling against the README's configuration tables.");
        }

        CheckValue(configuration.GetSection("Storage:ProbeTimeout"), typeof(TimeSpan), invalid);
        if (configuration["Logging:Format"] is { Length: > 0 } format && !LogFormats.Contains(format, StringComparer.OrdinalIgnoreCase))
        {
            invalid.Add($"Logging:Format '{format}' is not one of {string.Join(", ", LogFormats)}");
        }

        if (invalid.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", invalid));
        }
    }

    /// <summary>The values Logging:Format takes: one JSON object per line, or .NET's plain console lines.</summary>
    public static IReadOnlyList<string> LogFormats { get; } = ["json", "plain", "simple"];

    /// <summary>
    /// A value the binder cannot turn into its property's type stops the start with the key, the value and what the
    /// key takes (an enum's names, true or false, a number, a duration), instead of a .NET type name.
    /// </summary>
    private static void CheckValue(IConfigurationSection section, Type type, List<string> invalid)
    {
        if (section.Value is not { } value)
        {
            return;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        var (ok, takes) = type switch
        {
            _ when type.IsEnum => (!value.Trim().All(char.IsAsciiDigit) && Enum.TryParse(type, value, ignoreCase: true, out _), "one of " + string.Join(", ", Enum.GetNames(type))),
            _ when type == typeof(bool) => (bool.TryParse(value, out _), "true or false"),
            _ when type == typeof(int) => (int.TryParse(value, System.Globalization.NumberStyles.Integer, culture, out _), "a whole number"),
            _ when type == typeof(long) => (long.TryParse(value, System.Globalization.NumberStyles.Integer, culture, out _), "a whole number"),
            _ when type == typeof(TimeSpan) => (TimeSpan.TryParse(value, culture, out _), "a duration such as 00:00:30 (hh:mm:ss, or d.hh:mm:ss)"),
            _ => (true, string.Empty),
        };
        if (!ok)
        {
            invalid.Add($"{section.Path} '{value}' is not {takes}");
        }
    }

    /// <summary>
    /// The ports of the FTP server and the management endpoint, which are validated in sections of their own, checked
    /// together: the management endpoint on the FTP port, or a passive range holding a listening port, would only
    /// show as a failure to bind or as data connections that go nowhere.
    /// </summary>
    public static void ThrowOnPortConflicts(IConfiguration configuration)
    {
        var ftp = configuration.GetSection(FtpServerOptions.SectionName).Get<FtpServerOptions>() ?? new FtpServerOptions();
        var management = configuration.GetSection(ManagementOptions.SectionName).Get<ManagementOptions>() ?? new ManagementOptions();
        var errors = new List<string>();
        if (management.Port is < 0 or > 65535)
        {
            errors.Add($"Management:Port {management.Port} is not a TCP port");
        }

        if (!System.Net.IPAddress.TryParse(management.ListenAddress, out _))
        {
            errors.Add($"Management:ListenAddress '{management.ListenAddress}' is not an IP address");
        }

        if (management.Port != 0 && (management.Port == ftp.Port || management.Port == ftp.Tls.ImplicitPort || (ftp.Relay.Enabled && management.Port == ftp.Relay.Port)))
        {
            errors.Add($"Management:Port {management.Port} is also an FTP port (Ftp:Port, Ftp:Tls:ImplicitPort, Ftp:Relay:Port): give the management endpoint a port of its own");
        }

        // A bad range is reported, with its key, by the Ftp section's own validation.
        var range = FtpNetwork.Parse(ftp, []).PassiveRange;

        if (range is { } r)
        {
            foreach (var (key, port) in new[] { ("Ftp:Port", ftp.Port), ("Management:Port", management.Port) })
            {
                if (port >= r.Start && port <= r.End)
                {
                    errors.Add($"Ftp:PassivePortRange {r.Start}-{r.End} holds {key} {port}: passive ports must be free for data connections");
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }
    }

    /// <summary>A storage section: <c>Provider</c> and the providers' sections; at the top also <c>Targets:&lt;name&gt;</c>, each one the same.</summary>
    private static void WalkStorage(IConfigurationSection storage, List<string> unknown, List<string> invalid, bool allowTargets)
    {
        foreach (var child in storage.GetChildren())
        {
            if (StorageSections.TryGetValue(child.Key, out var type))
            {
                Walk(child, type, unknown, invalid);
            }
            else if (allowTargets && child.Key.Equals("Targets", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var target in child.GetChildren())
                {
                    WalkStorage(target, unknown, invalid, allowTargets: false);
                }
            }
            else if (!child.Key.Equals("Provider", StringComparison.OrdinalIgnoreCase) && !(allowTargets && child.Key.Equals("ProbeTimeout", StringComparison.OrdinalIgnoreCase)))
            {
                unknown.Add(child.Path);
            }
        }
    }

    /// <summary>Every key under <paramref name="section"/> must name a settable property of <paramref name="type"/> (case-insensitive, as the binder matches).</summary>
    private static void Walk(IConfigurationSection section, Type type, List<string> unknown, List<string> invalid)
    {
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property?.SetMethod is not { IsPublic: true })
            {
                unknown.Add(child.Path);
            }
            else if (child.Value is not null)
            {
                CheckValue(child, property.PropertyType, invalid);
            }
            else if (IsOptionsClass(property.PropertyType))
            {
                Walk(child, property.PropertyType, unknown, invalid);
            }
            else if (property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(List<>)
                && IsOptionsClass(property.PropertyType.GetGenericArguments()[0]))
            {
                foreach (var item in child.GetChildren())
                {
                    Walk(item, property.PropertyType.GetGenericArguments()[0], unknown, invalid); // Events:Webhooks:N:*
                }
            }
        }
    }

    private static bool IsOptionsClass(Type type) => type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("FtpGateway", StringComparison.Ordinal) == true;
}

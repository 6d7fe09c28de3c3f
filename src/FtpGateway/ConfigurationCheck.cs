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
/// <c>Users</c>, <c>Anonymous</c>, <c>Management</c>, <c>Security</c>). The binder silently ignores them, so a typo such as
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
        Walk(configuration.GetSection(FtpServerOptions.SectionName), typeof(FtpServerOptions), unknown);
        Walk(configuration.GetSection(ManagementOptions.SectionName), typeof(ManagementOptions), unknown);
        Walk(configuration.GetSection(FtpGateway.Ftp.Security.SecurityOptions.SectionName), typeof(FtpGateway.Ftp.Security.SecurityOptions), unknown);
        Walk(configuration.GetSection(AuthOptions.SectionName), typeof(AuthOptions), unknown);
        Walk(configuration.GetSection(FtpGateway.Ftp.Audit.AuditOptions.SectionName), typeof(FtpGateway.Ftp.Audit.AuditOptions), unknown);
        Walk(configuration.GetSection(FtpGateway.Ftp.Events.EventOptions.SectionName), typeof(FtpGateway.Ftp.Events.EventOptions), unknown);
        Walk(configuration.GetSection(AnonymousOptions.SectionName), typeof(AnonymousOptions), unknown);
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

            Walk(user, typeof(UserOptions), unknown);
        }

        WalkStorage(configuration.GetSection("Storage"), unknown, allowTargets: true);

        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"Unknown configuration key{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown)}: check the spelling against the README's configuration tables.");
        }
    }

    /// <summary>A storage section: <c>Provider</c> and the providers' sections; at the top also <c>Targets:&lt;name&gt;</c>, each one the same.</summary>
    private static void WalkStorage(IConfigurationSection storage, List<string> unknown, bool allowTargets)
    {
        foreach (var child in storage.GetChildren())
        {
            if (StorageSections.TryGetValue(child.Key, out var type))
            {
                Walk(child, type, unknown);
            }
            else if (allowTargets && child.Key.Equals("Targets", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var target in child.GetChildren())
                {
                    WalkStorage(target, unknown, allowTargets: false);
                }
            }
            else if (!child.Key.Equals("Provider", StringComparison.OrdinalIgnoreCase))
            {
                unknown.Add(child.Path);
            }
        }
    }

    /// <summary>Every key under <paramref name="section"/> must name a settable property of <paramref name="type"/> (case-insensitive, as the binder matches).</summary>
    private static void Walk(IConfigurationSection section, Type type, List<string> unknown)
    {
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property?.SetMethod is not { IsPublic: true })
            {
                unknown.Add(child.Path);
            }
            else if (IsOptionsClass(property.PropertyType))
            {
                Walk(child, property.PropertyType, unknown);
            }
            else if (property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(List<>)
                && IsOptionsClass(property.PropertyType.GetGenericArguments()[0]))
            {
                foreach (var item in child.GetChildren())
                {
                    Walk(item, property.PropertyType.GetGenericArguments()[0], unknown); // Events:Webhooks:N:*
                }
            }
        }
    }

    private static bool IsOptionsClass(Type type) => type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("FtpGateway", StringComparison.Ordinal) == true;
}

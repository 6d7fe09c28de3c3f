using System.Reflection;
using Microsoft.Extensions.Logging;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The registry of log event ids (Log.cs of FtpGateway.Ftp): an id means one event in the whole gateway, so an
/// operator can filter or alert on it.
/// </summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void EveryLogEventId_MeansOneEvent_AcrossTheGateway()
    {
        Assembly[] assemblies =
        [
            typeof(FtpGateway.Ftp.FtpServer).Assembly,
            typeof(FtpGateway.Storage.IStorageProvider).Assembly,
            typeof(FtpGateway.Storage.S3.S3Storage).Assembly,
            typeof(FtpGateway.Storage.AzureBlob.AzureBlobStorage).Assembly,
            typeof(FtpGateway.GatewayHost).Assembly,
            typeof(FtpGateway.State.Redis.StateOptions).Assembly,
        ];
        var events = assemblies
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(e => e.Attribute is not null)
            .ToList();

        Assert.True(events.Count >= 40, $"only {events.Count} log methods found");
        var doubled = events.GroupBy(e => e.Attribute!.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}").ToList();
        Assert.Empty(doubled);
        Assert.All(events, e => Assert.InRange(e.Attribute!.EventId, 100, 799));
    }
}

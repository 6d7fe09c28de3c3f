namespace FtpGateway.Ftp.Tests;

/// <summary>Internal by default: what FtpGateway.Ftp exports is the server, its registration and its options.</summary>
public sealed class PublicSurfaceTests
{
    [Fact]
    public void TheFtpAssembly_ExportsTheServerItsRegistrationAndItsOptions_Only()
    {
        var exported = typeof(FtpServer).Assembly.GetExportedTypes().Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
        Assert.True(exported.Count <= 22, string.Join(", ", exported));
        Assert.Contains(nameof(FtpServer), exported);
        Assert.Contains(nameof(FtpServiceCollectionExtensions), exported);
        Assert.All(exported.Where(n => n is not (nameof(FtpServer) or nameof(FtpServiceCollectionExtensions) or "FtpTelemetry" or "EventTypes")),
            n => Assert.Matches("(Options|Format|Permissions|Policy)$", n)); // options and the enums of their values
    }
}

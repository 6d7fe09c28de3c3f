namespace FtpGateway;

/// <summary>Configuration section <c>Management</c>: the HTTP endpoint for /healthz, /readyz and /metrics.</summary>
public sealed class ManagementOptions
{
    public const string SectionName = "Management";

    /// <summary>HTTP port of the management endpoint (never the FTP port). 0 picks a free port (tests).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Address the management endpoint listens on.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";
}

namespace FtpGateway;

/// <summary>Configuration section <c>Management</c>: the HTTP endpoint for /healthz, /readyz and /metrics.</summary>
public sealed class ManagementOptions
{
    public const string SectionName = "Management";

    /// <summary>HTTP port of the management endpoint (never the FTP port). 0 picks a free port (tests).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Address the management endpoint listens on.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>
    /// The storage targets (<c>default</c> or a name of Storage:Targets) /readyz probes; empty: none. A target only some
    /// users use must not take the gateway out of service for all; each target has its health gauge and alert instead.
    /// </summary>
    public List<string> ReadinessTargets { get; set; } = [];

    /// <summary>
    /// The operator API's bearer tokens, each <c>sha256:&lt;hex&gt;</c> or <c>file:&lt;path&gt;</c> (see
    /// <see cref="Api.ApiKeys"/>); none: no API.
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>How often every storage target is probed for ftpgateway.storage.available.</summary>
    public TimeSpan StorageProbeInterval { get; set; } = TimeSpan.FromSeconds(30);
}

using System.Security.Cryptography.X509Certificates;
using FtpGateway.Ftp.Data;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp;

/// <summary>What every session shares: configuration, storage, users, passive ports, certificate.</summary>
internal sealed class FtpServerContext(
    FtpServerOptions options,
    IStorageProvider storage,
    UserDirectory users,
    PassivePortPool passivePorts,
    X509Certificate2? certificate,
    ILoggerFactory loggerFactory,
    TimeProvider time,
    FtpTelemetry telemetry)
{
    public FtpTelemetry Telemetry => telemetry;

    public FtpServerOptions Options => options;

    public IStorageProvider Storage => storage;

    public UserDirectory Users => users;

    public PassivePortPool PassivePorts => passivePorts;

    public X509Certificate2? Certificate => certificate;

    public ILoggerFactory LoggerFactory => loggerFactory;

    public TimeProvider Time => time;

    public System.Net.IPAddress? PublicAddress { get; } =
        string.IsNullOrWhiteSpace(options.PublicAddress) ? null : System.Net.IPAddress.Parse(options.PublicAddress);
}

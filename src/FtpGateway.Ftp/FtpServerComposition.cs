using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp;

/// <summary>The composition of what every session shares, once per server.</summary>
internal sealed partial class FtpServerContext
{
    /// <summary>
    /// Every storage target instrumented, the passive ports this replica owns, the certificate, the ban list (whose
    /// bans become address.banned events), the password checkers, the hook, the audit trail and the events.
    /// </summary>
    public static FtpServerContext Create(
        FtpServerOptions options,
        SecurityOptions security,
        StorageTargets targets,
        UserStore users,
        ILoggerFactory loggerFactory,
        FtpTelemetry telemetry,
        TimeProvider time,
        HttpAuthHook? authHook,
        Audit.AuditTrail? audit,
        Events.EventPublisher? events,
        State.IFleetState? fleet,
        Checks.ScanningOptions? scanning = null)
    {
        if (scanning is { Quarantines: true } && targets.Find(scanning.QuarantineStorage) is null)
        {
            throw new InvalidOperationException($"Scanning:QuarantineStorage '{scanning.QuarantineStorage}' is not a storage target (default, or a name of Storage:Targets)");
        }

        var ports = new PassivePortPool(options.Network.OwnPassiveRange);
        telemetry.ObservePassivePorts(() => ports.InUse);
        var context = new FtpServerContext(
            options,
            targets.All.ToDictionary(t => t.Key, t => (IStorageProvider)new InstrumentedStorageProvider(t.Value, telemetry, t.Key, time), StringComparer.Ordinal),
            users,
            ports,
            options.Tls.Enabled ? new ServerCertificate(options.Tls, time, loggerFactory.CreateLogger("FtpGateway.Ftp.Tls"), telemetry) : null,
            loggerFactory,
            time,
            telemetry,
            new BanList(security.Bans, time, loggerFactory.CreateLogger("FtpGateway.Ftp.Bans"), telemetry),
            new PasswordChecks(security.PasswordCheckers),
            authHook,
            audit,
            events,
            fleet)
        {
            Scanning = scanning ?? new Checks.ScanningOptions(),
            Scanner = scanning is { Enabled: true } s
                ? new Checks.ClamdScanner(Checks.ClamdScanner.ParseAddress(s.Clamd.Address!)!, s.Timeout, time)
                : null,
        };
        if (fleet is not null)
        {
            telemetry.ObserveFleetState(() => fleet.IsAvailable ? 1 : 0);
        }

        telemetry.StartAtZero(targets.All.Select(t => (t.Key, t.Value.Name)));

        context.Bans.Banned += (address, duration, bans) => context.Events.Publish(
            FtpGateway.Ftp.Events.EventTypes.AddressBanned, address, string.Empty, new FtpGateway.Ftp.Events.BanEventData(address, (long)duration.TotalSeconds, bans));
        return context;
    }

    /// <summary>Releases what the context owns (the certificate, the ban sweep, the password checkers, the resolver).</summary>
    public void Dispose()
    {
        Certificates?.Dispose();
        Bans.Dispose();
        PasswordChecks.Dispose();
        StopResolvingPublicHost();
    }
}

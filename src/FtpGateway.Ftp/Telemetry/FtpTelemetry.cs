using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FtpGateway.Ftp.Telemetry;

/// <summary>
/// The product's one ActivitySource and one Meter, both named "FtpGateway". Attribute names follow the
/// OpenTelemetry semantic conventions where they exist (client.address, server.port, error.type, ...).
/// Without a listener (no exporter configured) StartActivity returns null and instruments record nothing.
/// </summary>
public sealed class FtpTelemetry : IDisposable
{
    public const string Name = "FtpGateway";

    public static ActivitySource Source { get; } = new(Name);

    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public FtpTelemetry(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(Name) ?? new Meter(Name);
        ActiveSessions = _meter.CreateUpDownCounter<long>("ftpgateway.sessions.active", "{session}", "FTP sessions open now");
        Sessions = _meter.CreateCounter<long>("ftpgateway.sessions", "{session}", "FTP sessions ended, by end reason");
        LoginFailures = _meter.CreateCounter<long>("ftpgateway.logins.failed", "{login}", "Failed logins");
        Commands = _meter.CreateCounter<long>("ftpgateway.commands", "{command}", "FTP commands, by verb and reply class");
        Bytes = _meter.CreateCounter<long>("ftpgateway.transfer.bytes", "By", "Bytes transferred, by direction and storage provider");
        TransferDuration = _meter.CreateHistogram<double>("ftpgateway.transfer.duration", "s", "Duration of data transfers");
        StorageDuration = _meter.CreateHistogram<double>("ftpgateway.storage.duration", "s", "Duration of storage operations, by provider, operation and outcome");
        DataConnectionFailures = _meter.CreateCounter<long>("ftpgateway.data_connections.failed", "{connection}", "Data connections that did not open or broke");
        RefusedConnections = _meter.CreateCounter<long>("ftpgateway.connections.refused", "{connection}", "Control connections refused before the greeting, by reason");
        Bans = _meter.CreateCounter<long>("ftpgateway.bans", "{ban}", "Client addresses banned after too many failed logins");
        UserReloadFailures = _meter.CreateCounter<long>("ftpgateway.users.reload_failures", "{reload}", "Users-file reloads that failed (the previous users stay in force)");
    }

    internal Meter Meter => _meter;

    public UpDownCounter<long> ActiveSessions { get; }

    public Counter<long> Sessions { get; }

    public Counter<long> LoginFailures { get; }

    public Counter<long> Commands { get; }

    public Counter<long> Bytes { get; }

    public Histogram<double> TransferDuration { get; }

    public Histogram<double> StorageDuration { get; }

    public Counter<long> DataConnectionFailures { get; }

    public Counter<long> RefusedConnections { get; }

    public Counter<long> Bans { get; }

    public Counter<long> UserReloadFailures { get; }

    /// <summary>Passive ports held now (observed from the pool).</summary>
    internal void ObservePassivePorts(Func<int> inUse) =>
        _meter.CreateObservableGauge("ftpgateway.passive_ports.in_use", inUse, "{port}", "Passive data ports in use");

    /// <summary>Users configured now (observed from the user store).</summary>
    internal void ObserveUsers(Func<int> count) =>
        _meter.CreateObservableUpDownCounter("ftpgateway.users", count, "{user}", "Users configured now (configuration and users file)");

    /// <summary>Bans in force now (observed from the ban list).</summary>
    internal void ObserveBans(Func<int> active) =>
        _meter.CreateObservableUpDownCounter("ftpgateway.bans.active", active, "{ban}", "Client addresses banned now");

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}

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

    public FtpTelemetry(IMeterFactory? meterFactory = null, bool perUserMetrics = false)
        : this(meterFactory, new TelemetryOptions { PerUserMetrics = perUserMetrics })
    {
    }

    public FtpTelemetry(IMeterFactory? meterFactory, TelemetryOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        PerUserMetrics = options.PerUserMetrics;
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(Name) ?? new Meter(Name);
        ActiveSessions = _meter.CreateUpDownCounter<long>("ftpgateway.sessions.active", "{session}", "FTP sessions open now");
        Sessions = _meter.CreateCounter<long>("ftpgateway.sessions", "{session}", "FTP sessions ended, by end reason");
        LoginFailures = _meter.CreateCounter<long>("ftpgateway.logins.failed", "{login}", "Failed logins");
        Commands = _meter.CreateCounter<long>("ftpgateway.commands", "{command}", "FTP commands, by verb and reply class");
        Bytes = _meter.CreateCounter<long>("ftpgateway.transfer.bytes", "By", "Bytes transferred, by direction and storage provider");
        // Boundaries through the instruments' advice, so that OTLP and Prometheus export the same buckets; the
        // SDK's defaults (0, 5, 10, ... 10000) are for milliseconds and put every call under 5 s in one bucket.
        TransferDuration = _meter.CreateHistogram(
            "ftpgateway.transfer.duration", "s", "Duration of data transfers", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = TransferBuckets });
        StorageDuration = _meter.CreateHistogram(
            "ftpgateway.storage.duration", "s", "Duration of storage operations, by provider, operation and outcome", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = StorageBuckets });
        DataConnectionFailures = _meter.CreateCounter<long>("ftpgateway.data_connections.failed", "{connection}", "Data connections that did not open or broke");
        _users = options.PerUserMetrics ? new UserActivity(Name, options, time ?? TimeProvider.System) : null;
        RefusedConnections = _meter.CreateCounter<long>("ftpgateway.connections.refused", "{connection}", "Control connections refused before the greeting, by reason");
        Bans = _meter.CreateCounter<long>("ftpgateway.bans", "{ban}", "Client addresses banned after too many failed logins");
        EventsDelivered = _meter.CreateCounter<long>("ftpgateway.events.delivered", "{event}", "Events delivered to webhooks");
        EventsFailedAttempts = _meter.CreateCounter<long>("ftpgateway.events.failed_attempts", "{attempt}", "Webhook deliveries that failed and will be retried");
        EventsDropped = _meter.CreateCounter<long>("ftpgateway.events.dropped", "{event}", "Events dropped undelivered, by reason (max_age, spool_full)");
        UserReloadFailures = _meter.CreateCounter<long>("ftpgateway.users.reload_failures", "{reload}", "Users-file reloads that failed (the previous users stay in force)");
        RelayedConnections = _meter.CreateCounter<long>("ftpgateway.relay.connections", "{connection}", "Data connections relayed between gateways, by direction (out: passed on, in: taken) and outcome");
        RelayedBytes = _meter.CreateCounter<long>("ftpgateway.relay.bytes", "By", "Bytes this gateway passed on for other gateways' data connections");
        UploadsUnscanned = _meter.CreateCounter<long>("ftpgateway.uploads.unscanned", "{upload}", "Uploads stored without a scan (Scanning:OnError or OverLimit Accept), by reason (scanner_unavailable, scan_limit)");
        UploadsGuarded = _meter.CreateCounter<long>("ftpgateway.uploads.guarded", "{upload}", "Uploads refused by a user's guardrail before any data, by reason (files_per_minute, files_per_day, bytes_per_day)");
        UploadsRejected = _meter.CreateCounter<long>("ftpgateway.uploads.rejected", "{upload}", "Uploads refused by their checks before commit, by reason (infected, content_type, too_small, scan_limit, scanner_unavailable)");
    }

    internal Meter Meter => _meter;

    /// <summary>
    /// The counters a dashboard shows before anything happened, exported at 0 (a panel then shows 0, not "No data"):
    /// failures, bans, refusals by reason, and each storage target's bytes both ways.
    /// </summary>
    internal void StartAtZero(IEnumerable<(string Target, string Provider)> targets)
    {
        LoginFailures.Add(0);
        Bans.Add(0);
        foreach (var reason in new[] { "infected", "content_type", "too_small", "scan_limit", "scanner_unavailable" })
        {
            UploadsRejected.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }

        foreach (var reason in new[] { "files_per_minute", "files_per_day", "bytes_per_day" })
        {
            UploadsGuarded.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }

        DataConnectionFailures.Add(0);
        UserReloadFailures.Add(0);
        foreach (var reason in new[] { "address_rule", "banned", "session_limit", "address_limit" })
        {
            RefusedConnections.Add(0, new KeyValuePair<string, object?>("ftp.refusal", reason));
        }

        foreach (var (target, provider) in targets)
        {
            foreach (var direction in new[] { Transfers.TransferDirection.Upload, Transfers.TransferDirection.Download })
            {
                Bytes.Add(
                    0,
                    new KeyValuePair<string, object?>("ftp.transfer.direction", Transfers.TransferReport.Names.Of(direction)),
                    new KeyValuePair<string, object?>("storage.provider", provider),
                    new KeyValuePair<string, object?>("storage.target", target));
            }
        }
    }

    /// <summary>The relay's counters at 0 (with Ftp:Relay).</summary>
    internal void StartRelayAtZero()
    {
        RelayedBytes.Add(0);
        foreach (var (direction, outcome) in new[] { ("out", "relayed"), ("out", "failed"), ("in", "taken"), ("in", "refused") })
        {
            RelayedConnections.Add(0, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    /// <summary>The webhook counters at 0 (with webhooks configured).</summary>
    internal void StartEventsAtZero()
    {
        EventsDelivered.Add(0);
        EventsFailedAttempts.Add(0);
        foreach (var reason in new[] { "max_age", "spool_full", "spool_error" })
        {
            EventsDropped.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    /// <summary>Telemetry:PerUserMetrics: a series per user (one per device: mind the cardinality).</summary>
    public bool PerUserMetrics { get; }

    private readonly UserActivity? _users;

    /// <summary>With <see cref="PerUserMetrics"/>: counts a committed upload of <paramref name="user"/> and remembers when.</summary>
    public void UserUploaded(string user) => _users?.Uploaded(user);

    /// <summary>A finished transfer's bytes, duration and data-connection failure; a committed upload per user.</summary>
    internal void RecordTransfer(Transfers.TransferReport report, bool countForUser = true)
    {
        var provider = new KeyValuePair<string, object?>("storage.provider", report.StorageProvider);
        var target = new KeyValuePair<string, object?>("storage.target", report.StorageTarget);
        var direction = new KeyValuePair<string, object?>("ftp.transfer.direction", report.DirectionName);
        Bytes.Add(report.Bytes, direction, provider, target);
        TransferDuration.Record(report.Elapsed.TotalSeconds, direction, provider, target, new KeyValuePair<string, object?>("ftp.transfer.result", report.Result));
        if (report.Outcome.Failure is Transfers.TransferFailure.DataConnectionNotOpened or Transfers.TransferFailure.DataConnectionBroken)
        {
            DataConnectionFailures.Add(1);
        }

        if (countForUser && report.Completed && report.Direction == Transfers.TransferDirection.Upload && report.Party is { } uploader)
        {
            UserUploaded(uploader.User);
        }
    }

    /// <summary>Users with per-user series now (0 without <see cref="PerUserMetrics"/>).</summary>
    internal int UsersObserved => _users?.Count ?? 0;

    /// <summary>Storage calls: 1 ms to 60 s.</summary>
    public static IReadOnlyList<double> StorageBuckets { get; } = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>Transfers: 5 ms to 1 h.</summary>
    public static IReadOnlyList<double> TransferBuckets { get; } = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    public UpDownCounter<long> ActiveSessions { get; }

    public Counter<long> Sessions { get; }

    /// <summary>Uploads stored although the scanner could not say (an operator must see them).</summary>
    public Counter<long> UploadsUnscanned { get; }

    /// <summary>Uploads refused by a guardrail (a looping device) before 150.</summary>
    public Counter<long> UploadsGuarded { get; }

    /// <summary>Uploads refused by their checks (file content, size, the scanner) before they committed.</summary>
    public Counter<long> UploadsRejected { get; }

    public Counter<long> LoginFailures { get; }

    public Counter<long> Commands { get; }

    public Counter<long> Bytes { get; }

    public Histogram<double> TransferDuration { get; }

    public Histogram<double> StorageDuration { get; }

    public Counter<long> DataConnectionFailures { get; }

    public Counter<long> RefusedConnections { get; }

    public Counter<long> Bans { get; }

    public Counter<long> UserReloadFailures { get; }

    public Counter<long> RelayedConnections { get; }

    public Counter<long> RelayedBytes { get; }

    public Counter<long> EventsDelivered { get; }

    public Counter<long> EventsFailedAttempts { get; }

    public Counter<long> EventsDropped { get; }

    /// <summary>Events waiting for delivery (observed from the webhook queues).</summary>
    internal void ObserveEventsPending(Func<int> pending) =>
        _meter.CreateObservableUpDownCounter("ftpgateway.events.pending", pending, "{event}", "Events waiting for delivery to webhooks");

    /// <summary>Counts a command by its verb and the class of its final reply (a transfer's 226/4xx, not its 150).</summary>
    public void CountCommand(string verb, int code) =>
        Commands.Add(
            1,
            new KeyValuePair<string, object?>("ftp.command", verb),
            new KeyValuePair<string, object?>("ftp.reply_class", code == 0 ? "none" : $"{code / 100}xx"));

    /// <summary>
    /// Starts a span as the root of a new trace (whatever span is current), linked to <paramref name="link"/>
    /// (the session's span), so that one long session does not make one unbounded trace.
    /// </summary>
    public static Activity? StartLinkedRoot(string name, Activity? link, ActivityKind kind = ActivityKind.Internal)
    {
        var current = Activity.Current;
        Activity.Current = null;
        try
        {
            return Source.StartActivity(name, kind, default(ActivityContext), links: link is null ? null : [new ActivityLink(link.Context)]);
        }
        finally
        {
            if (Activity.Current is null)
            {
                Activity.Current = current; // nothing was started (no listener): leave the caller as it was
            }
        }
    }

    /// <summary>Passive ports held now (observed from the pool).</summary>
    internal void ObservePassivePorts(Func<int> inUse) =>
        _meter.CreateObservableGauge("ftpgateway.passive_ports.in_use", inUse, "{port}", "Passive data ports in use");

    /// <summary>Users configured now, and whether the users file in force is the file's current content (observed from the user store).</summary>
    internal void ObserveUsers(Func<int> count, Func<int> fileCurrent)
    {
        _meter.CreateObservableUpDownCounter("ftpgateway.users", count, "{user}", "Users configured now (configuration and users file)");
        _meter.CreateObservableGauge("ftpgateway.users.file_current", fileCurrent, "1", "1 while the users in force are the users file's current content; 0 while it is broken and the previous users stay");
    }

    /// <summary>Per storage target, whether it answered its last probe (observed from the storage health check).</summary>
    internal void ObserveStorageAvailability(Func<IEnumerable<(string Target, string Provider, bool Available)>> targets) =>
        _meter.CreateObservableGauge(
            "ftpgateway.storage.available",
            () => targets().Select(t => new Measurement<int>(t.Available ? 1 : 0, new KeyValuePair<string, object?>("storage.target", t.Target), new KeyValuePair<string, object?>("storage.provider", t.Provider))),
            "1",
            "1 while a storage target answers its probe, 0 while it does not");

    /// <summary>Bans in force now (observed from the ban list).</summary>
    internal void ObserveBans(Func<int> active) =>
        _meter.CreateObservableUpDownCounter("ftpgateway.bans.active", active, "{ban}", "Client addresses banned now");

    /// <summary>Seconds until the FTPS certificate expires, per listener (explicit, and implicit when it runs).</summary>
    internal void ObserveCertificateExpiry(Func<TimeSpan> left, bool implicitListener) =>
        _meter.CreateObservableGauge(
            "ftpgateway.tls.certificate.expiry",
            () =>
            {
                var seconds = Math.Round(left().TotalSeconds);
                return implicitListener
                    ? [new Measurement<double>(seconds, new KeyValuePair<string, object?>("listener", "explicit")), new Measurement<double>(seconds, new KeyValuePair<string, object?>("listener", "implicit"))]
                    : new[] { new Measurement<double>(seconds, new KeyValuePair<string, object?>("listener", "explicit")) };
            },
            "s",
            "Seconds until the FTPS certificate in force expires");

    /// <summary>1 while the fleet's shared state (State:Redis) answers, 0 while this gateway decides alone.</summary>
    internal void ObserveFleetState(Func<int> available) =>
        _meter.CreateObservableGauge("ftpgateway.state.available", available, "{state}", "Whether the shared state of the fleet (State:Redis) is reachable");

    public void Dispose()
    {
        _users?.Dispose();
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}

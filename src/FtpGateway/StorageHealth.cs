using FtpGateway.Ftp;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FtpGateway;

/// <summary>
/// Whether each storage target answers, probed in the background every <see cref="ManagementOptions.StorageProbeInterval"/>
/// and published as <c>ftpgateway.storage.available</c> (1 or 0 per target): one customer's store going away is an
/// alert for that customer, not a gateway taken out of service for every customer (readiness probes only
/// <see cref="ManagementOptions.ReadinessTargets"/>). A target changing state is one log line.
/// </summary>
internal sealed partial class StorageHealth : BackgroundService
{
    private readonly StorageTargets _targets;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, bool> _available;

    public StorageHealth(StorageTargets targets, ManagementOptions options, FtpTelemetry telemetry, ILogger<StorageHealth> logger, TimeProvider? time = null)
    {
        _targets = targets;
        _interval = options.StorageProbeInterval;
        _time = time ?? TimeProvider.System;
        _logger = logger;
        _available = targets.All.Keys.ToDictionary(k => k, _ => true, StringComparer.Ordinal); // the start-up probe passed
        telemetry.ObserveStorageAvailability(() =>
        {
            lock (_available)
            {
                return [.. _available.Select(t => (t.Key, _targets.All[t.Key].Name, t.Value))];
            }
        });
    }

    /// <summary>Probes every target once, at once, each within <paramref name="timeout"/>; returns the names of those that failed.</summary>
    public static async Task<List<string>> ProbeAsync(IEnumerable<KeyValuePair<string, IStorageProvider>> targets, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(timeout, time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        var failed = await Task.WhenAll(targets.Select(async t =>
        {
            try
            {
                await t.Value.ProbeAsync(deadline.Token);
                return null;
            }
            catch (Exception ex) when (ex is StorageException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return t.Key;
            }
        }));
        return [.. failed.OfType<string>()];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await timer.WaitForNextTickAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var failed = await ProbeAsync(_targets.All, TimeSpan.FromSeconds(Math.Min(10, _interval.TotalSeconds)), _time, stoppingToken);
            foreach (var target in _targets.All.Keys)
            {
                var up = !failed.Contains(target);
                bool was;
                lock (_available)
                {
                    was = _available[target];
                    _available[target] = up;
                }

                if (was && !up)
                {
                    TargetDown(_logger, target, _targets.All[target].Describe());
                }
                else if (!was && up)
                {
                    TargetUp(_logger, target);
                }
            }
        }
    }

    [LoggerMessage(710, LogLevel.Warning, "Storage target {Target} ({Store}) does not answer; its users' transfers fail until it does")]
    private static partial void TargetDown(ILogger logger, string target, string store);

    [LoggerMessage(711, LogLevel.Information, "Storage target {Target} answers again")]
    private static partial void TargetUp(ILogger logger, string target);
}

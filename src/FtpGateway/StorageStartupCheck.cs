using FtpGateway.Ftp;
using FtpGateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FtpGateway;

/// <summary>
/// Probes the configured storage before the FTP listener opens, so that a wrong bucket, endpoint or credential
/// stops the gateway at start-up with a clear message instead of failing every upload later.
/// </summary>
internal sealed partial class StorageStartupCheck(StorageTargets targets, ILogger<StorageStartupCheck> logger, TimeSpan probeTimeout, TimeProvider time) : IHostedService
{
    /// <summary>The key of how long a store may take to answer the start-up probe (default 30 s).</summary>
    public const string ProbeTimeoutKey = "Storage:ProbeTimeout";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Every target at once, each with its own timeout: many customers' stores do not add up to a false timeout.
        await Task.WhenAll(targets.All.Select(t => ProbeAsync(t.Key, t.Value, cancellationToken)));
    }

    private async Task ProbeAsync(string name, IStorageProvider storage, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(probeTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await storage.ProbeAsync(timeout.Token);
            StorageReady(logger, storage.Name, name);
        }
        catch (Exception ex) when (ex is StorageException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var settings = name == StorageTargets.Default ? "Storage" : $"Storage:Targets:{name}";
            var which = name == StorageTargets.Default ? "Storage" : $"Storage target '{name}'";
            var problem = ex is OperationCanceledException ? $"did not answer: timed out after {probeTimeout.TotalSeconds:0.#} s" : $"is not usable: {ex.Message}";
            throw new InvalidOperationException($"{which} ({storage.Describe()}) {problem}. Check the {settings} settings.", ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(701, LogLevel.Information, "Storage {Provider} (target {Target}) answered the start-up probe")]
    private static partial void StorageReady(ILogger logger, string provider, string target);
}

using FtpGateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FtpGateway;

/// <summary>
/// Probes the configured storage before the FTP listener opens, so that a wrong bucket, endpoint or credential
/// stops the gateway at start-up with a clear message instead of failing every upload later.
/// </summary>
internal sealed partial class StorageStartupCheck(IStorageProvider storage, ILogger<StorageStartupCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await storage.ProbeAsync(timeout.Token);
            StorageReady(logger, storage.Name);
        }
        catch (Exception ex) when (ex is StorageException or OperationCanceledException)
        {
            throw new InvalidOperationException($"Storage '{storage.Name}' is not reachable: {ex.Message}. Check the Storage settings.", ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Information, "Storage {Provider} answered the start-up probe")]
    private static partial void StorageReady(ILogger logger, string provider);
}

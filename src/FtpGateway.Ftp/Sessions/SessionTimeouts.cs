using FtpGateway.Ftp.Transfers;

namespace FtpGateway.Ftp.Sessions;

/// <summary>
/// The session's watchdog, on the server's <see cref="TimeProvider"/> (a fake clock in tests): a session with
/// no command and no transfer for <see cref="FtpServerOptions.IdleTimeout"/> is closed, and a transfer whose
/// client has not moved data for <see cref="FtpServerOptions.DataConnectionTimeout"/> is cut short.
/// </summary>
internal sealed class SessionTimeouts : IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly FtpServerOptions _options;
    private readonly Func<Transfer?> _currentTransfer;
    private readonly Func<TimeSpan> _idleTimeout;
    private readonly Action _idle;
    private readonly ITimer _timer;
    private long _lastActivity;
    private volatile bool _disposed;

    public SessionTimeouts(TimeProvider time, FtpServerOptions options, Func<Transfer?> currentTransfer, Func<TimeSpan> idleTimeout, Action idle)
    {
        _time = time;
        _options = options;
        _currentTransfer = currentTransfer;
        _idleTimeout = idleTimeout;
        _idle = idle;
        _lastActivity = time.GetTimestamp();
        var shortest = Math.Min(options.IdleTimeout.TotalMilliseconds, options.DataConnectionTimeout.TotalMilliseconds);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(shortest / 4, 50, 5000));
        _timer = time.CreateTimer(_ => Check(), null, period, period);
    }

    /// <summary>The client did something: a command arrived, or a transfer ended.</summary>
    public void Touch() => Interlocked.Exchange(ref _lastActivity, _time.GetTimestamp());

    private void Check()
    {
        if (_disposed)
        {
            return;
        }

        if (_currentTransfer() is { } transfer)
        {
            // Only time spent waiting for the client counts: a slow store (backpressure) is not an idle client.
            if (transfer.Data is { } data && data.Waiting > _options.DataConnectionTimeout)
            {
                transfer.Cancel(TransferFailure.Timeout);
            }

            return;
        }

        if (_time.GetElapsedTime(Interlocked.Read(ref _lastActivity)) > _idleTimeout())
        {
            _idle();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _timer.DisposeAsync();
    }
}

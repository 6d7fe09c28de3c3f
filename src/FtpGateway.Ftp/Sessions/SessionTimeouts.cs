using FtpGateway.Ftp.Transfers;

namespace FtpGateway.Ftp.Sessions;

/// <summary>What the watchdog asks of its session and tells it (Kestrel's <c>ITimeoutHandler</c> shape).</summary>
internal interface ITimeoutHandler
{
    /// <summary>The running transfer, if any: while one runs, only its data timeouts apply.</summary>
    Transfer? CurrentTransfer { get; }

    /// <summary>How long the session may stay idle now (Ftp:IdleTimeout, or SITE IDLE's).</summary>
    TimeSpan IdleTimeout { get; }

    /// <summary>When the login began (a timestamp of the server's clock), while nobody is logged in; else null.</summary>
    long? LoginStartedAt { get; }

    /// <summary>The session has expired: it is to end for <paramref name="reason"/>.</summary>
    void OnTimeout(SessionEndReason reason);
}

/// <summary>
/// The session's watchdog, checked on every beat of the server's one heartbeat (<see cref="PeriodFor"/>, on the
/// server's <see cref="TimeProvider"/>: a fake clock in tests; one timer for all sessions, as Kestrel's: a timer
/// each was three objects, about 0.2 KiB, per idle session in a gcdump of 10,000): a connection
/// that has not logged in within <see cref="FtpServerOptions.LoginTimeout"/> is closed, so is a session with no
/// command and no transfer for its idle timeout; a transfer whose client has not moved data for
/// <see cref="FtpServerOptions.DataConnectionTimeout"/>, or moves less than
/// <see cref="FtpServerOptions.MinDataRateBytesPerSecond"/> over <see cref="FtpServerOptions.MinDataRateWindow"/>,
/// is cut short.
/// </summary>
internal sealed class SessionTimeouts : IDisposable
{
    private readonly TimeProvider _time;
    private readonly FtpServerOptions _options;
    private readonly ITimeoutHandler _handler;
    private long _lastActivity;
    private RateWindow? _rate;
    private volatile bool _disposed;

    public SessionTimeouts(TimeProvider time, FtpServerOptions options, ITimeoutHandler handler)
    {
        _time = time;
        _options = options;
        _handler = handler;
        _lastActivity = time.GetTimestamp();
    }

    /// <summary>How often the heartbeat checks every session: a quarter of the shortest timeout, within 50 ms and 5 s.</summary>
    public static TimeSpan PeriodFor(FtpServerOptions options)
    {
        var shortest = new[] { options.IdleTimeout, options.DataConnectionTimeout, options.LoginTimeout, options.MinDataRateWindow }.Min();
        return TimeSpan.FromMilliseconds(Math.Clamp(shortest.TotalMilliseconds / 4, 50, 5000));
    }

    /// <summary>The client did something: a command arrived, or a transfer ended.</summary>
    public void Touch() => Interlocked.Exchange(ref _lastActivity, _time.GetTimestamp());

    /// <summary>One beat of the heartbeat: ends the session or cuts its transfer when a timeout has passed.</summary>
    public void Check()
    {
        if (_disposed)
        {
            return;
        }

        if (_handler.CurrentTransfer is { } transfer)
        {
            CheckTransfer(transfer);
            return;
        }

        _rate = null;
        if (_handler.LoginStartedAt is { } started && _time.GetElapsedTime(started) > _options.LoginTimeout)
        {
            _handler.OnTimeout(SessionEndReason.LoginTimeout);
        }
        else if (_time.GetElapsedTime(Interlocked.Read(ref _lastActivity)) > _handler.IdleTimeout)
        {
            _handler.OnTimeout(SessionEndReason.IdleTimeout);
        }
    }

    private void CheckTransfer(Transfer transfer)
    {
        if (transfer.Data is not { } data)
        {
            return; // still opening: the data connection timeout covers it
        }

        // Only time spent waiting for the client counts: a slow store (backpressure) is not an idle client.
        if (data.Waiting > _options.DataConnectionTimeout)
        {
            transfer.Cancel(TransferFailure.Timeout);
            return;
        }

        if (_options.MinDataRateBytesPerSecond <= 0)
        {
            return;
        }

        var now = _time.GetTimestamp();
        if (_rate is not { } rate || !ReferenceEquals(rate.Data, data))
        {
            _rate = new RateWindow(data, now, data.Bytes, data.TotalWaiting);
            return;
        }

        var elapsed = _time.GetElapsedTime(rate.Start, now);
        if (elapsed < _options.MinDataRateWindow)
        {
            return;
        }

        // Too few bytes over the window, most of it spent waiting for the client (not for the store).
        var moved = data.Bytes - rate.Bytes;
        var waited = data.TotalWaiting - rate.Waited;
        if (moved < _options.MinDataRateBytesPerSecond * elapsed.TotalSeconds && waited * 2 >= elapsed)
        {
            transfer.Cancel(TransferFailure.TooSlow);
        }

        _rate = new RateWindow(data, now, data.Bytes, data.TotalWaiting);
    }

    public void Dispose() => _disposed = true;

    /// <summary>Where the current measurement window of a transfer started.</summary>
    private sealed record RateWindow(DataConnectionStream Data, long Start, long Bytes, TimeSpan Waited);
}

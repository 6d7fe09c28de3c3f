using System.Diagnostics.Metrics;

namespace FtpGateway.Ftp.Telemetry;

/// <summary>
/// Per-user series (<see cref="TelemetryOptions.PerUserMetrics"/>): committed uploads and the time of the last one,
/// observed at each collection, so that a user can leave: one idle for longer than the retention loses its series,
/// and beyond the cap the user whose last upload is oldest makes room. A counter with a user attribute would keep
/// every series for the life of the process.
/// </summary>
internal sealed class UserActivity
{
    private readonly Dictionary<string, (long Uploads, DateTimeOffset Last)> _users = new(StringComparer.Ordinal);
    private readonly TelemetryOptions _options;
    private readonly TimeProvider _time;

    public UserActivity(Meter meter, TelemetryOptions options, TimeProvider time)
    {
        (_options, _time) = (options, time);
        meter.CreateObservableCounter(
            "ftpgateway.user.uploads",
            () => Observe(u => new Measurement<long>(u.Value.Uploads, User(u.Key))),
            "{upload}",
            "Committed uploads, per user");
        meter.CreateObservableGauge(
            "ftpgateway.user.last_upload.time",
            () => Observe(u => new Measurement<long>(u.Value.Last.ToUnixTimeSeconds(), User(u.Key))),
            "s",
            "Unix time of each user's last committed upload (a device that falls silent)");
    }

    /// <summary>Users with series now.</summary>
    public int Count
    {
        get
        {
            lock (_users)
            {
                return _users.Count;
            }
        }
    }

    public void Uploaded(string user)
    {
        var now = _time.GetUtcNow();
        lock (_users)
        {
            if (!_users.TryGetValue(user, out var known) && _users.Count >= _options.PerUserMetricsMaxUsers)
            {
                _users.Remove(_users.MinBy(u => u.Value.Last).Key);
            }

            _users[user] = (known.Uploads + 1, now);
        }
    }

    private List<Measurement<long>> Observe(Func<KeyValuePair<string, (long Uploads, DateTimeOffset Last)>, Measurement<long>> measure)
    {
        var cutoff = _time.GetUtcNow() - _options.PerUserMetricsRetention;
        lock (_users)
        {
            foreach (var idle in _users.Where(u => u.Value.Last < cutoff).Select(u => u.Key).ToList())
            {
                _users.Remove(idle);
            }

            return [.. _users.Select(measure)];
        }
    }

    private static KeyValuePair<string, object?> User(string name) => new("enduser.id", name);
}

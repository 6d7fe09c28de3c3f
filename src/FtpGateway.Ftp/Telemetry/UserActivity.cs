using System.Diagnostics.Metrics;

namespace FtpGateway.Ftp.Telemetry;

/// <summary>
/// Per-user series (<see cref="TelemetryOptions.PerUserMetrics"/>): committed uploads and the time of the last one,
/// observed at each collection from a table, so that a user can leave: one idle for longer than the retention loses
/// its series, and beyond the cap the user whose last upload is oldest makes room. OpenTelemetry keeps a series'
/// slot for as long as its instrument lives (a pruned user's slot is not given to a new one), so the instruments
/// live in a meter of their own that is made anew, at most once a minute, when users have left and a new one comes;
/// the views the host adds (<see cref="CardinalityLimit"/>) leave room for one full turnover in between.
/// </summary>
internal sealed class UserActivity : IDisposable
{
    private static readonly TimeSpan RebuildAtMostEvery = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, (long Uploads, DateTimeOffset Last)> _users = new(StringComparer.Ordinal);
    private readonly TelemetryOptions _options;
    private readonly TimeProvider _time;
    private readonly string _meterName;
    private Meter _meter;
    private bool _left;
    private long _built;

    public UserActivity(string meterName, TelemetryOptions options, TimeProvider time)
    {
        (_meterName, _options, _time) = (meterName, options, time);
        _meter = Build();
    }

    /// <summary>The series each per-user instrument may need: every user with series now, and as many newcomers.</summary>
    public static int CardinalityLimit(TelemetryOptions options) => (2 * (options ?? throw new ArgumentNullException(nameof(options))).PerUserMetricsMaxUsers) + 2;

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
        Meter? retired = null;
        lock (_users)
        {
            var known = _users.TryGetValue(user, out var before);
            if (!known && _users.Count >= _options.PerUserMetricsMaxUsers)
            {
                _users.Remove(_users.MinBy(u => u.Value.Last).Key);
                _left = true;
            }

            _users[user] = (before.Uploads + 1, now);
            if (!known && _left && _time.GetElapsedTime(_built) >= RebuildAtMostEvery)
            {
                (retired, _meter) = (_meter, Build());
                _left = false;
            }
        }

        retired?.Dispose();
    }

    private Meter Build()
    {
        _built = _time.GetTimestamp();
        var meter = new Meter(_meterName);
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
        return meter;
    }

    private List<Measurement<long>> Observe(Func<KeyValuePair<string, (long Uploads, DateTimeOffset Last)>, Measurement<long>> measure)
    {
        var cutoff = _time.GetUtcNow() - _options.PerUserMetricsRetention;
        lock (_users)
        {
            foreach (var idle in _users.Where(u => u.Value.Last < cutoff).Select(u => u.Key).ToList())
            {
                _users.Remove(idle);
                _left = true;
            }

            return [.. _users.Select(measure)];
        }
    }

    private static KeyValuePair<string, object?> User(string name) => new("enduser.id", name);

    public void Dispose() => _meter.Dispose();
}

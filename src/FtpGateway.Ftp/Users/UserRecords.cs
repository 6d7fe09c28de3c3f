using System.Collections.Concurrent;
using FtpGateway.Ftp.State;

namespace FtpGateway.Ftp.Users;

/// <summary>
/// What the operator API tells about a user: the last login and upload, and the uploads and bytes of the day (UTC).
/// Kept on this gateway, and in the fleet's shared state when there is one (then the API shows the fleet's).
/// </summary>
internal sealed class UserRecords(TimeProvider time, IFleetState? fleet)
{
    private const int MaxUsers = 100_000; // users of the hook are not listed anywhere: a bound, not a leak
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public void LoggedIn(string user)
    {
        var now = time.GetUtcNow();
        if (Get(user) is { } entry)
        {
            lock (entry)
            {
                entry.LastLogin = now;
            }
        }

        fleet?.RecordUser(user, upload: false, 0, now);
    }

    public void Uploaded(string user, long bytes)
    {
        var now = time.GetUtcNow();
        if (Get(user) is { } entry)
        {
            lock (entry)
            {
                entry.LastUpload = now;
                if (entry.Day != DateOnly.FromDateTime(now.UtcDateTime))
                {
                    (entry.Day, entry.Uploads, entry.Bytes) = (DateOnly.FromDateTime(now.UtcDateTime), 0, 0);
                }

                entry.Uploads++;
                entry.Bytes += bytes;
            }
        }

        fleet?.RecordUser(user, upload: true, bytes, now);
    }

    /// <summary>The user's record (the fleet's when its state answers, else this gateway's) and whether it is the fleet's.</summary>
    public async Task<(UserActivityRecord? Record, bool Fleet)> GetAsync(string user, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (fleet is { IsAvailable: true })
        {
            try
            {
                return (await fleet.UserActivityAsync(user, today, ct), true);
            }
            catch (FleetStateUnavailableException)
            {
                // this gateway's own, below
            }
        }

        if (!_entries.TryGetValue(user, out var entry))
        {
            return (null, false);
        }

        lock (entry)
        {
            var current = entry.Day == today;
            return (new UserActivityRecord(entry.LastLogin, entry.LastUpload, current ? entry.Uploads : 0, current ? entry.Bytes : 0), false);
        }
    }

    private Entry? Get(string user) =>
        _entries.TryGetValue(user, out var entry) ? entry : _entries.Count >= MaxUsers ? null : _entries.GetOrAdd(user, _ => new Entry());

    private sealed class Entry
    {
        public DateTimeOffset? LastLogin { get; set; }

        public DateTimeOffset? LastUpload { get; set; }

        public DateOnly Day { get; set; }

        public long Uploads { get; set; }

        public long Bytes { get; set; }
    }
}

using System.Collections.Concurrent;

namespace FtpGateway.Ftp.Users;

/// <summary>
/// What a user's sessions share: how many are logged in (<see cref="UserOptions.MaxSessions"/>; counted on every
/// gateway of the fleet with State:Redis, by leases that a gateway which dies stops renewing) and their bandwidth
/// on this gateway (<see cref="UserOptions.UploadBytesPerSecond"/>, <see cref="UserOptions.DownloadBytesPerSecond"/>).
/// </summary>
internal sealed class UserSessions(TimeProvider time, State.IFleetState? fleet = null)
{
    private readonly ConcurrentDictionary<string, Shared> _users = new(StringComparer.Ordinal);

    /// <summary>The scope of a user's session leases in the shared state.</summary>
    public static string LeaseScope(string user) => "user:" + user;

    /// <summary>
    /// Counts a login of session <paramref name="sessionId"/>; false (and not counted) when the user already has
    /// <c>MaxSessions</c> here, or on the whole fleet. While the shared state is unreachable this gateway's count decides.
    /// </summary>
    public async Task<bool> TryEnterAsync(FtpUser user, string sessionId, CancellationToken ct)
    {
        var shared = _users.GetOrAdd(user.Name, _ => new Shared());
        lock (shared)
        {
            if (user.MaxSessions is { } max && shared.Sessions >= max)
            {
                return false;
            }

            shared.Sessions++;
        }

        if (fleet is null || user.MaxSessions is not { } limit)
        {
            return true;
        }

        try
        {
            if (await fleet.TryTakeLeaseAsync(LeaseScope(user.Name), sessionId, limit, ct) != State.LeaseResult.Full)
            {
                return true;
            }
        }
        catch
        {
            Leave(user, sessionId);
            throw;
        }

        Leave(user, sessionId);
        return false;
    }

    public void Leave(FtpUser user, string sessionId)
    {
        if (_users.TryGetValue(user.Name, out var shared))
        {
            lock (shared)
            {
                shared.Sessions--;
            }
        }

        if (user.MaxSessions is not null)
        {
            fleet?.ReleaseLease(LeaseScope(user.Name), sessionId);
        }
    }

    /// <summary>The user's shared bandwidth in one direction; null when unlimited.</summary>
    public TokenBucket? Throttle(FtpUser user, bool upload)
    {
        var rate = upload ? user.UploadBytesPerSecond : user.DownloadBytesPerSecond;
        if (rate is not { } bytesPerSecond)
        {
            return null;
        }

        var shared = _users.GetOrAdd(user.Name, _ => new Shared());
        lock (shared)
        {
            // One bucket per user and direction; a changed rate (users file) is taken over in place.
            ref var bucket = ref upload ? ref shared.Upload : ref shared.Download;
            bucket ??= new TokenBucket(bytesPerSecond, time);
            bucket.Rate = bytesPerSecond;
            return bucket;
        }
    }

    private sealed class Shared
    {
        public int Sessions;
        public TokenBucket? Upload;
        public TokenBucket? Download;
    }
}

/// <summary>
/// A bandwidth limit shared by several streams: each takes what it moved and, when the bucket runs into debt,
/// waits until the rate has paid it back. It starts empty (a transfer gets the rate from its first byte) and
/// saves up at most one second's worth while idle.
/// </summary>
internal sealed class TokenBucket(long initialRate, TimeProvider time)
{
    private readonly Lock _lock = new();
    private double _tokens;
    private long _last = time.GetTimestamp();
    private long _rate = initialRate;

    public long Rate
    {
        get => Interlocked.Read(ref _rate);
        set => Interlocked.Exchange(ref _rate, value);
    }

    /// <summary>Takes <paramref name="bytes"/> and waits for as long as the bucket is in debt.</summary>
    public Task TakeAsync(int bytes, CancellationToken ct)
    {
        TimeSpan wait;
        lock (_lock)
        {
            var rate = Rate;
            var now = time.GetTimestamp();
            _tokens = Math.Min(rate, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * rate));
            _last = now;
            _tokens -= bytes;
            wait = _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / rate);
        }

        return wait == TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, time, ct);
    }
}

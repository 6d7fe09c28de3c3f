using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using FtpGateway.Ftp.State;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FtpGateway.State.Redis;

/// <summary>
/// The fleet's shared state in Redis. Keys (under State:Redis:KeyPrefix): <c>bans</c> (a sorted set: client → end
/// of its ban), <c>offence:&lt;client&gt;</c> (the ban number and length, for doubling), <c>failures:&lt;client&gt;</c>
/// (failed logins within the window), <c>lease:user:&lt;name&gt;</c> and <c>lease:client:&lt;client&gt;</c> (sorted
/// sets: session id → lease end), <c>session:&lt;id&gt;</c> and the index <c>sessions</c>; the channel
/// <c>messages</c> carries bans, unbans and commands between gateways. Leases and session records live 45 s and are
/// renewed every 10 s: a gateway that dies frees its sessions within a minute. Records are written at most once a
/// second per session (a login, a transfer that starts or ends) and every 10 s (bytes so far).
/// </summary>
internal sealed class RedisFleetState : IFleetState
{
    private static readonly TimeSpan WatchEvery = TimeSpan.FromSeconds(1);
    private readonly int _leaseTtlMs;

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly string _prefix;
    private readonly string _channelName;
    private readonly RedisChannel _channel;
    private readonly ILogger _logger;
    private readonly string _endPoints;
    private readonly ConcurrentDictionary<(string Scope, string Holder), byte> _leases = new();
    private readonly ConcurrentDictionary<string, Func<FleetSession>> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _dirty = new(StringComparer.Ordinal);
    private readonly ITimer _watch;
    private readonly ITimer _renew;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private int _available = -1; // -1: not known yet, 0: down, 1: up
    private long _quietUntil; // after a timeout (a Redis that hangs rather than goes): not asked until then
    private readonly TimeProvider _time;
    private volatile bool _subscribed;

    private RedisFleetState(ConnectionMultiplexer redis, string prefix, string gateway, TimeProvider time, ILogger logger, TimeSpan leaseTtl, TimeSpan renewEvery)
    {
        _leaseTtlMs = (int)leaseTtl.TotalMilliseconds;
        _time = time;
        _redis = redis;
        _db = redis.GetDatabase();
        _prefix = prefix;
        _channelName = prefix + "messages";
        _channel = RedisChannel.Literal(_channelName);
        Gateway = gateway;
        _logger = logger;
        _endPoints = string.Join(", ", redis.GetEndPoints().Select(e => e.ToString()));
        _watch = time.CreateTimer(_ => Watch(), null, TimeSpan.Zero, WatchEvery);
        _renew = time.CreateTimer(_ => _ = RenewAsync(), null, renewEvery, renewEvery);
    }

    /// <summary>Connects (or keeps trying in the background while Redis is down: the gateway starts either way).</summary>
    /// <param name="options">State:Redis.</param>
    /// <param name="gateway">this gateway's name in the fleet.</param>
    /// <param name="time">the clock of the timers (the store's clock decides windows, bans and leases).</param>
    /// <param name="loggerFactory">where the state's log goes.</param>
    /// <param name="leaseTtl">how long a lease and a session record live unless renewed (45 s).</param>
    /// <param name="renewEvery">how often they are renewed (10 s).</param>
    public static RedisFleetState Connect(
        RedisStateOptions options, string gateway, TimeProvider time, ILoggerFactory loggerFactory, TimeSpan? leaseTtl = null, TimeSpan? renewEvery = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var redis = ConnectionMultiplexer.Connect(options.Parse(gateway));
        return new RedisFleetState(
            redis, options.KeyPrefix, gateway.Replace(' ', '_'), time, loggerFactory.CreateLogger("FtpGateway.State.Redis"),
            leaseTtl ?? TimeSpan.FromSeconds(45), renewEvery ?? TimeSpan.FromSeconds(10));
    }

    public string Gateway { get; }

    public bool IsAvailable => Volatile.Read(ref _available) == 1 && _time.GetTimestamp() >= Volatile.Read(ref _quietUntil);

    /// <inheritdoc/>
    public event Action<FleetMessage>? Received;

    public event Action? Reconnected;

    /// <summary>
    /// Every second: notices the store going and coming back, and writes the sessions that changed. The store is
    /// back only when the subscription is too: a ban published before it was would be missed, so the bans are read
    /// again then (<see cref="Reconnected"/>).
    /// </summary>
    private void Watch()
    {
        var up = _redis.IsConnected && (!_subscribed || _redis.GetSubscriber().IsConnected(_channel));
        var was = Interlocked.Exchange(ref _available, up ? 1 : 0);
        if (up && was != 1)
        {
            if (was == -1)
            {
                Log.Connected(_logger, _endPoints, _prefix);
            }
            else
            {
                Log.Restored(_logger, _endPoints);
            }

            _ = OnBackAsync();
        }
        else if (!up && was != 0)
        {
            Log.Unavailable(_logger, _endPoints);
        }
        else if (up && !_dirty.IsEmpty)
        {
            _ = WriteDirtyAsync();
        }
    }

    private async Task OnBackAsync()
    {
        try
        {
            if (!_subscribed)
            {
                // One message after the other, in the order published (a ban, then its unban).
                var queue = await _redis.GetSubscriber().SubscribeAsync(_channel);
                queue.OnMessage(message => OnMessage(message.Message));
                _subscribed = true; // the client subscribes again by itself after every reconnection
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Interlocked.Exchange(ref _available, 0); // tried again at the next watch
            Log.WriteFailed(_logger, "subscribe", ex.Message);
            return;
        }

        await RenewAsync();
        try
        {
            Reconnected?.Invoke();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.HandlerFailed(_logger, ex);
        }
    }

    private void OnMessage(RedisValue value)
    {
        var text = value.ToString();
        var parts = text.Split(' ');
        FleetMessage? message = parts switch
        {
            ["ban", var client, var ms, var n, var origin] when long.TryParse(ms, CultureInfo.InvariantCulture, out var remaining) && int.TryParse(n, CultureInfo.InvariantCulture, out var number)
                => new FleetMessage.Banned(origin, new FleetBan(client, TimeSpan.FromMilliseconds(remaining), number)),
            ["unban", var client, var origin] => new FleetMessage.Unbanned(origin, client),
            ["end", var id, var now, var origin] => new FleetMessage.EndSession(origin, id, now == "1"),
            _ => null,
        };
        if (message is null)
        {
            Log.BadMessage(_logger, text.Length > 200 ? text[..200] : text);
            return;
        }

        if (message.Origin == Gateway)
        {
            return; // this gateway did it already, before it told the others
        }

        try
        {
            Received?.Invoke(message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.HandlerFailed(_logger, ex);
        }
    }

    public async Task<FleetFailure> RecordFailureAsync(string client, BanPolicy policy, CancellationToken ct)
    {
        var r = (RedisResult[])(await EvalAsync(
            Scripts.Failure,
            [Key("failures:", client), Key("offence:", client), Key("bans")],
            [client, policy.MaxFailures, Ms(policy.Window), Ms(policy.Duration), Ms(policy.MaxDuration), Guid.NewGuid().ToString("N"), Gateway, _channelName],
            ct))!;
        var remaining = (long)r[1];
        return remaining <= 0 ? new FleetFailure(null, false) : new FleetFailure(new FleetBan(client, TimeSpan.FromMilliseconds(remaining), (int)r[2]), (int)r[0] == 1);
    }

    public async Task<bool> ShareBanAsync(FleetBan ban, TimeSpan age, CancellationToken ct) =>
        (int)await EvalAsync(
            Scripts.Share,
            [Key("bans"), Key("offence:", ban.Client), Key("unbans")],
            [ban.Client, Ms(ban.Remaining), ban.Number, Gateway, Ms(TimeSpan.FromDays(1)), _channelName, Ms(age)],
            ct) != -1;

    public async Task<bool> LiftBanAsync(string client, CancellationToken ct) =>
        (int)(await EvalAsync(Scripts.Lift, [Key("bans"), Key("offence:", client), Key("failures:", client), Key("unbans")], [client, Gateway, _channelName], ct)) == 1;

    public async Task<IReadOnlyList<FleetBan>> BansAsync(CancellationToken ct)
    {
        var r = (RedisResult[])(await EvalAsync(Scripts.Bans, [Key("bans")], [_prefix + "offence:"], ct))!;
        var bans = new List<FleetBan>(r.Length / 3);
        for (var i = 0; i + 2 < r.Length; i += 3)
        {
            bans.Add(new FleetBan((string)r[i]!, TimeSpan.FromMilliseconds((long)r[i + 1]), (int)r[i + 2]));
        }

        return bans;
    }

    public async Task<LeaseResult> TryTakeLeaseAsync(string scope, string holder, int limit, CancellationToken ct)
    {
        _leases[(scope, holder)] = 0; // held from now on (renewed, or written when the store is back) unless refused
        try
        {
            if ((int)await EvalAsync(Scripts.TakeLease, [Key("lease:", scope)], [holder, limit, _leaseTtlMs], ct) == 1)
            {
                return LeaseResult.Taken;
            }

            _leases.TryRemove((scope, holder), out _);
            return LeaseResult.Full;
        }
        catch (FleetStateUnavailableException)
        {
            return LeaseResult.Unchecked;
        }
        catch
        {
            _leases.TryRemove((scope, holder), out _);
            throw;
        }
    }

    public void ReleaseLease(string scope, string holder)
    {
        if (_leases.TryRemove((scope, holder), out _))
        {
            FireAndForget("release", () => _db.SortedSetRemoveAsync(Key("lease:", scope), holder, CommandFlags.FireAndForget));
        }
    }

    public async Task<int> CountLeasesAsync(string scope, CancellationToken ct) =>
        (int)await EvalAsync(Scripts.CountLeases, [Key("lease:", scope)], [], ct);

    public void Track(string sessionId, Func<FleetSession> snapshot)
    {
        _sessions[sessionId] = snapshot;
        _dirty[sessionId] = 0;
    }

    public void Touch(string sessionId)
    {
        if (_sessions.ContainsKey(sessionId))
        {
            _dirty[sessionId] = 0;
        }
    }

    public void Untrack(string sessionId)
    {
        _dirty.TryRemove(sessionId, out _);
        if (_sessions.TryRemove(sessionId, out _))
        {
            RemoveSession(sessionId);
        }
    }

    private void RemoveSession(string id)
    {
        FireAndForget("session end", () => _db.KeyDeleteAsync(Key("session:", id), CommandFlags.FireAndForget));
        FireAndForget("session end", () => _db.SortedSetRemoveAsync(Key("sessions"), id, CommandFlags.FireAndForget));
    }

    public async Task<IReadOnlyList<FleetSession>> SessionsAsync(CancellationToken ct)
    {
        var r = (RedisResult[])(await EvalAsync(Scripts.Sessions, [Key("sessions")], [_prefix + "session:"], ct))!;
        return [.. r.Select(v => JsonSerializer.Deserialize((string)v!, FleetJson.Default.FleetSession)).OfType<FleetSession>()];
    }

    public void RecordUser(string user, bool upload, long bytes, DateTimeOffset at)
    {
        if (!IsAvailable)
        {
            return; // this gateway's own record keeps it
        }

        var day = DateOnly.FromDateTime(at.UtcDateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        _ = RecordUserAsync();
        async Task RecordUserAsync()
        {
            try
            {
                await ScriptAsync(Scripts.UserEvent, [Key("user:", user), Key("userday:", user + ":" + day)], [upload ? "upload" : "login", bytes]);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Log.WriteFailed(_logger, "user activity", ex.Message);
            }
        }
    }

    public async Task<UserActivityRecord?> UserActivityAsync(string user, DateOnly day, CancellationToken ct)
    {
        var d = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var seen = RunAsync(() => _db.HashGetAsync(Key("user:", user), ["lastLogin", "lastUpload"]), ct);
        var today = RunAsync(() => _db.HashGetAsync(Key("userday:", user + ":" + d), ["uploads", "bytes"]), ct);
        var (times, counts) = (await seen, await today);
        if (times.All(v => v.IsNull) && counts.All(v => v.IsNull))
        {
            return null;
        }

        static DateTimeOffset? Time(RedisValue v) => v.IsNull ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)v);
        return new UserActivityRecord(Time(times[0]), Time(times[1]), counts[0].IsNull ? 0 : (long)counts[0], counts[1].IsNull ? 0 : (long)counts[1]);
    }

    public async Task SendAsync(FleetMessage message, CancellationToken ct)
    {
        var text = message switch
        {
            FleetMessage.Banned b => $"ban {b.Ban.Client} {Ms(b.Ban.Remaining)} {b.Ban.Number} {Gateway}",
            FleetMessage.Unbanned u => $"unban {u.Client} {Gateway}",
            FleetMessage.EndSession e => $"end {e.SessionId} {(e.Now ? 1 : 0)} {Gateway}",
            _ => throw new ArgumentException("unknown message", nameof(message)),
        };
        await RunAsync(() => _db.PublishAsync(_channel, text), ct);
    }

    /// <summary>Renews every lease and writes every session (every 10 s, and when the store is back).</summary>
    private async Task RenewAsync()
    {
        if (!IsAvailable || !await _writing.WaitAsync(0))
        {
            return; // a renewal still runs
        }

        try
        {
            var leases = _leases.Keys.ToList();
            var sessions = _sessions.Keys.ToList();
            var writes = leases.Select(l => ScriptAsync(Scripts.TakeLease, [Key("lease:", l.Scope)], [l.Holder, int.MaxValue, _leaseTtlMs]))
                .Concat(sessions.Select(WriteSession))
                .ToList();
            _dirty.Clear();
            await Task.WhenAll(writes);

            // A lease given back or a session ended while the renewal was on its way: removed again.
            foreach (var (scope, holder) in leases.Where(l => !_leases.ContainsKey(l)))
            {
                FireAndForget("release", () => _db.SortedSetRemoveAsync(Key("lease:", scope), holder, CommandFlags.FireAndForget));
            }

            foreach (var id in sessions.Where(id => !_sessions.ContainsKey(id)))
            {
                RemoveSession(id);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.WriteFailed(_logger, "renewal", ex.Message);
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task WriteDirtyAsync()
    {
        try
        {
            var ids = _dirty.Keys.ToList();
            ids.ForEach(id => _dirty.TryRemove(id, out _));
            await Task.WhenAll(ids.Select(WriteSession));
            foreach (var id in ids.Where(id => !_sessions.ContainsKey(id)))
            {
                RemoveSession(id); // it ended while its record was written
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.WriteFailed(_logger, "session", ex.Message);
        }
    }

    private Task WriteSession(string id)
    {
        if (!_sessions.TryGetValue(id, out var snapshot))
        {
            return Task.CompletedTask;
        }

        var json = JsonSerializer.Serialize(snapshot(), FleetJson.Default.FleetSession);
        return ScriptAsync(Scripts.PutSession, [Key("session:", id), Key("sessions")], [json, id, _leaseTtlMs]);
    }

    private async Task<RedisResult> EvalAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken ct) =>
        await RunAsync(() => ScriptAsync(script, keys, values), ct);

    /// <summary>
    /// EVALSHA, and EVAL when the store does not know the script (NOSCRIPT): a Redis that restarted, or a replica
    /// promoted after a failover, has an empty script cache.
    /// </summary>
    private async Task<RedisResult> ScriptAsync(string script, RedisKey[] keys, RedisValue[] values)
    {
        var arguments = new object[keys.Length + values.Length + 2];
        arguments[1] = keys.Length;
        for (var i = 0; i < keys.Length; i++)
        {
            arguments[i + 2] = keys[i];
        }

        for (var i = 0; i < values.Length; i++)
        {
            arguments[keys.Length + i + 2] = values[i];
        }

        arguments[0] = Scripts.Sha1(script);
        try
        {
            return await _db.ExecuteAsync("EVALSHA", arguments);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            arguments[0] = script;
            return await _db.ExecuteAsync("EVAL", arguments);
        }
    }

    /// <summary>One call to the store; unreachable, slow or refusing (a replica, out of memory): unavailable.</summary>
    private async Task<T> RunAsync<T>(Func<Task<T>> call, CancellationToken ct)
    {
        if (!IsAvailable)
        {
            throw new FleetStateUnavailableException($"Redis {_endPoints} is unreachable");
        }

        try
        {
            return await call().WaitAsync(ct);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            if (ex is TimeoutException)
            {
                // Connected but not answering: every login would wait its timeout. Decide alone for a while.
                Volatile.Write(ref _quietUntil, _time.GetTimestamp() + (5 * _time.TimestampFrequency));
            }

            throw new FleetStateUnavailableException(ex.Message, ex);
        }
    }

    private void FireAndForget(string operation, Func<Task> call)
    {
        if (!IsAvailable)
        {
            return; // the key expires on its own
        }

        try
        {
            _ = call();
        }
        catch (RedisException ex)
        {
            Log.WriteFailed(_logger, operation, ex.Message);
        }
    }

    private RedisKey Key(string kind, string name = "") => _prefix + kind + name;

    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;

    /// <summary>Stops renewing; what this gateway still holds is given back (and would expire on its own).</summary>
    public async ValueTask DisposeAsync()
    {
        await _watch.DisposeAsync();
        await _renew.DisposeAsync();
        if (IsAvailable)
        {
            try
            {
                var removals = _leases.Keys.Select(l => (Task)_db.SortedSetRemoveAsync(Key("lease:", l.Scope), l.Holder))
                    .Concat(_sessions.Keys.Select(id => (Task)_db.KeyDeleteAsync(Key("session:", id))))
                    .ToList();
                await Task.WhenAll(removals).WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Log.WriteFailed(_logger, "shutdown", ex.Message);
            }
        }

        await _redis.DisposeAsync();
        _writing.Dispose();
    }
}

[JsonSerializable(typeof(FleetSession))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class FleetJson : JsonSerializerContext;

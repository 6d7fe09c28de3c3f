using System.Collections.Concurrent;
using System.Globalization;
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
internal sealed partial class RedisFleetState : IFleetState
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

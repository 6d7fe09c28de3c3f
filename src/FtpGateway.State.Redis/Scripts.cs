namespace FtpGateway.State.Redis;

/// <summary>
/// The Lua scripts that keep the shared state consistent: each runs atomically in Redis and takes the time from
/// Redis (<c>TIME</c>), so gateways with clocks apart agree on windows, bans and leases.
/// </summary>
internal static class Scripts
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Hashes = new(StringComparer.Ordinal);

    /// <summary>The SHA-1 Redis names a script by (EVALSHA): an identifier Redis chose, not a security measure.</summary>
#pragma warning disable CA5350 // Redis's script cache is keyed by SHA-1
    public static string Sha1(string script) =>
        Hashes.GetOrAdd(script, s => Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(s))));
#pragma warning restore CA5350

    /// <summary>A counter: KEYS counter; ARGV amount, lifetime ms (from its first use). Returns the new value.</summary>
    public const string Count = """
        local v = redis.call('INCRBY', KEYS[1], ARGV[1])
        if v == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return v
        """;

    private const string Now = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

    /// <summary>
    /// A failed login: KEYS failures, offence, bans; ARGV client, max failures, window ms, duration ms, max duration
    /// ms, nonce, origin, channel. Returns {new ban 0/1, remaining ms (0: not banned), ban number}. A ban in force
    /// counts nothing; a ban made within MaxDuration of the previous one's end lasts twice as long, up to MaxDuration.
    /// </summary>
    public const string Failure = Now + """
        local untilMs = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]) or '0')
        if untilMs > now then
          return {0, untilMs - now, tonumber(redis.call('HGET', KEYS[2], 'n') or '1')}
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
        redis.call('ZADD', KEYS[1], now, ARGV[6])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
          return {0, 0, 0}
        end
        redis.call('DEL', KEYS[1])
        local o = redis.call('HMGET', KEYS[2], 'n', 'dur', 'ended')
        local n, dur = 1, tonumber(ARGV[4])
        if o[1] and o[2] and o[3] and now - tonumber(o[3]) <= tonumber(ARGV[5]) then
          n = tonumber(o[1]) + 1
          dur = math.min(tonumber(ARGV[5]), tonumber(o[2]) * 2)
        end
        redis.call('HSET', KEYS[2], 'n', n, 'dur', dur, 'ended', now + dur)
        redis.call('PEXPIRE', KEYS[2], dur + tonumber(ARGV[5]))
        redis.call('ZADD', KEYS[3], now + dur, ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
        redis.call('PUBLISH', ARGV[8], 'ban ' .. ARGV[1] .. ' ' .. string.format('%d', dur) .. ' ' .. n .. ' ' .. ARGV[7])
        return {1, dur, n}
        """;

    /// <summary>
    /// A ban made by one gateway alone (or an operator): KEYS bans, offence, unbans; ARGV client, remaining ms,
    /// number, origin, max duration ms, channel, age ms (how long ago the ban began). A longer ban in force stays
    /// (0); a ban that began before an operator lifted the client's ban is refused (-1: the gateway lifts it
    /// too, it missed the unban). Returns 1 when taken.
    /// </summary>
    public const string Share = Now + """
        local lifted = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]) or '0')
        if lifted > now - tonumber(ARGV[7]) then
          return -1
        end
        local untilMs = now + tonumber(ARGV[2])
        local cur = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
        if cur >= untilMs then
          return 0
        end
        redis.call('ZADD', KEYS[1], untilMs, ARGV[1])
        redis.call('HSET', KEYS[2], 'n', ARGV[3], 'dur', ARGV[2], 'ended', untilMs)
        redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) + tonumber(ARGV[5]))
        redis.call('PUBLISH', ARGV[6], 'ban ' .. ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4])
        return 1
        """;

    /// <summary>
    /// An unban: KEYS bans, offence, failures, unbans; ARGV client, origin, channel. The unban is remembered for a
    /// day, so that a gateway that was away cannot bring the lifted ban back. Returns 1 when a ban was in force.
    /// </summary>
    public const string Lift = Now + """
        local cur = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('DEL', KEYS[2], KEYS[3])
        redis.call('ZADD', KEYS[4], now, ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 86400000)
        redis.call('PUBLISH', ARGV[3], 'unban ' .. ARGV[1] .. ' ' .. ARGV[2])
        if cur > now then
          return 1
        end
        return 0
        """;

    /// <summary>The bans in force: KEYS bans; ARGV the offence key prefix. Returns {client, remaining ms, number, ...}.</summary>
    public const string Bans = Now + """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        local r = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
        local out = {}
        for i = 1, #r, 2 do
          out[#out + 1] = r[i]
          out[#out + 1] = tonumber(r[i + 1]) - now
          out[#out + 1] = tonumber(redis.call('HGET', ARGV[1] .. r[i], 'n') or '1')
        end
        return out
        """;

    /// <summary>
    /// Takes (or renews) a lease: KEYS the scope; ARGV holder, limit, ttl ms. Expired leases (a gateway that died)
    /// are dropped first. Returns 1 when held, 0 when the scope is full.
    /// </summary>
    public const string TakeLease = Now + """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
          return 0
        end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return 1
        """;

    /// <summary>The leases a scope holds now: KEYS the scope.</summary>
    public const string CountLeases = Now + """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        return redis.call('ZCARD', KEYS[1])
        """;

    /// <summary>
    /// A user's login (ARGV kind "login") or upload ("upload", bytes): KEYS the user's hash (the last login and
    /// upload, kept: a device silent for weeks still shows when it was last seen), the day's hash (uploads and
    /// bytes, kept 8 days). The times are Redis's.
    /// </summary>
    public const string UserEvent = Now + """
        if ARGV[1] == 'login' then
          redis.call('HSET', KEYS[1], 'lastLogin', now)
        else
          redis.call('HSET', KEYS[1], 'lastUpload', now)
          redis.call('HINCRBY', KEYS[2], 'uploads', 1)
          redis.call('HINCRBY', KEYS[2], 'bytes', ARGV[2])
          redis.call('PEXPIRE', KEYS[2], 691200000)
        end
        return 1
        """;

    /// <summary>Writes a session's record: KEYS the record, the index; ARGV json, id, ttl ms.</summary>
    public const string PutSession = Now + """
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
        redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[2])
        return 1
        """;

    /// <summary>Every live session's record: KEYS the index; ARGV the record key prefix.</summary>
    public const string Sessions = Now + """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        local out = {}
        for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          local v = redis.call('GET', ARGV[1] .. id)
          if v then
            out[#out + 1] = v
          end
        end
        return out
        """;
}

using System.Globalization;
using System.Text.Json;
using FtpGateway.Ftp.State;
using StackExchange.Redis;

namespace FtpGateway.State.Redis;

/// <summary>The session registry and the users' activity records, and the renewal that keeps leases and records alive.</summary>
internal sealed partial class RedisFleetState
{
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
}

using System.Collections.Concurrent;
using System.Net;
using FtpGateway.Ftp.Users;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Sessions;

/// <summary>
/// The sessions this gateway runs, and the session slots of each client (an IPv4 address or an IPv6 /64, as
/// bans count them): add and remove, drain them all, close those of users a reload changed.
/// </summary>
internal sealed class SessionRegistry(State.IFleetState? fleet = null)
{
    private readonly ConcurrentDictionary<string, FtpSession> _sessions = new();
    private readonly ConcurrentDictionary<IPAddress, int> _perClient = new();
    private int _beating;
    private int _stopping;
    private Action<FtpSession>? _ended;

    // Session ids are unique across restarts and gateways: a random prefix for this process, then a counter.
    private readonly string _idPrefix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(5));
    private long _nextId;

    private int _admitting; // connections between admission and their session's start

    public int Count => _sessions.Count;

    /// <summary>
    /// Reserves a place for a connection being admitted unless <paramref name="max"/> sessions run or are being
    /// admitted already (admission may wait for the shared state: a burst must not overshoot Ftp:MaxSessions).
    /// The reservation ends with <see cref="Start"/> or <see cref="CancelReservation"/>.
    /// </summary>
    public bool TryReserve(int max)
    {
        if (_sessions.Count + Interlocked.Increment(ref _admitting) <= max)
        {
            return true;
        }

        CancelReservation();
        return false;
    }

    public void CancelReservation() => Interlocked.Decrement(ref _admitting);

    /// <summary>The scope of a client's session leases in the shared state.</summary>
    public static string LeaseScope(IPAddress address) => "client:" + Security.BanList.ClientKey(address);

    /// <summary>
    /// Takes one of the client's slots for session <paramref name="sessionId"/> unless it already holds
    /// <paramref name="limit"/> here or, with the fleet's shared state, on all gateways together.
    /// </summary>
    public async Task<bool> TryTakeSlotAsync(IPAddress address, string sessionId, int limit, CancellationToken ct)
    {
        if (_perClient.AddOrUpdate(Addresses.ClientKey(address), 1, (_, n) => n + 1) > limit)
        {
            ReleaseLocalSlot(address);
            return false;
        }

        try
        {
            if (fleet is null || await fleet.TryTakeLeaseAsync(LeaseScope(address), sessionId, limit, ct) != State.LeaseResult.Full)
            {
                return true;
            }
        }
        catch
        {
            ReleaseLocalSlot(address);
            throw;
        }

        ReleaseLocalSlot(address);
        return false;
    }

    /// <summary>Gives the slot of session <paramref name="sessionId"/> back.</summary>
    public void ReleaseSlot(IPAddress address, string sessionId)
    {
        ReleaseLocalSlot(address);
        fleet?.ReleaseLease(LeaseScope(address), sessionId);
    }

    private void ReleaseLocalSlot(IPAddress address)
    {
        var key = Addresses.ClientKey(address);
        var remaining = _perClient.AddOrUpdate(key, 0, (_, n) => n - 1);
        if (remaining <= 0)
        {
            _perClient.TryRemove(new KeyValuePair<IPAddress, int>(key, remaining));
        }
    }

    /// <summary>A new session id: this process's random prefix and a counter (<c>3f9a0c11d2-00002a</c>).</summary>
    public string NextId() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_idPrefix}-{Interlocked.Increment(ref _nextId):x6}");

    /// <summary>Runs an admitted session (its client holds a slot); when it ends, it frees the slot (<see cref="Ended"/>) and disposes itself.</summary>
    public void Start(FtpSession session)
    {
        fleet?.Track(session.Id, session.Snapshot);
        _sessions[session.Id] = session; // before it runs: a session that ends at once is then removed, never left behind
        CancelReservation(); // counted as a session now
        session.Completion = session.RunAsync(_ended ??= Ended); // one delegate for all sessions
        if (Volatile.Read(ref _stopping) == 1)
        {
            session.Abort(); // admitted while the server stopped: AbortAll may have passed it by
        }
    }

    private void Ended(FtpSession session)
    {
        ReleaseSlot(session.ClientAddress, session.Id); // the client's slot is free once the session is gone from the count
        fleet?.Untrack(session.Id);
        _sessions.TryRemove(session.Id, out _); // before the dispose: a drain or a stop that starts later never reaches it
    }

    /// <summary>The server stops: every session, and any admitted from now on, is cut off (<see cref="FtpSession.Abort"/>).</summary>
    public void AbortAll(ILogger logger)
    {
        Interlocked.Exchange(ref _stopping, 1);
        foreach (var session in _sessions.Values)
        {
            try
            {
                session.Abort();
            }
            catch (Exception ex)
            {
                Log.UnexpectedError(logger, ex, "session stop");
            }
        }
    }

    /// <summary>The session with this id on this gateway, if any.</summary>
    public FtpSession? Find(string id) => _sessions.GetValueOrDefault(id);

    /// <summary>
    /// Checks every session's timeouts (the server's heartbeat): one session failing never skips the others, and a
    /// beat that comes while the last one still runs is skipped (a session's checks are not made twice at once).
    /// </summary>
    public void OnHeartbeat(ILogger logger)
    {
        if (Interlocked.Exchange(ref _beating, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (var entry in _sessions) // no snapshot: a copy of 10,000 entries every beat is what this saves
            {
                try
                {
                    entry.Value.OnHeartbeat();
                }
                catch (Exception ex)
                {
                    Log.UnexpectedError(logger, ex, "timeout check");
                }
            }
        }
        finally
        {
            Volatile.Write(ref _beating, 0);
        }
    }

    /// <summary>The sessions of this gateway.</summary>
    public IEnumerable<FtpSession> All => _sessions.Values;

    /// <summary>Ends a session of this gateway for the operator (<see cref="FtpSession.EndByOperatorAsync"/>); false when it is not here.</summary>
    public bool TryEnd(string id, bool now, ILogger logger)
    {
        if (Find(id) is not { } session)
        {
            return false;
        }

        Log.SessionEndedByOperator(logger, id, now);
        _ = session.EndByOperatorAsync(now);
        return true;
    }

    /// <summary>Lets every session's running transfer finish, then closes it with 421 (<see cref="FtpSession.DrainAsync"/>).</summary>
    public Task DrainAllAsync() => Task.WhenAll(_sessions.Values.Select(s => s.DrainAsync()));

    /// <summary>Waits for every session to end, at most <paramref name="timeout"/>.</summary>
    public Task WhenAllEndedAsync(TimeSpan timeout, TimeProvider time) =>
        Task.WhenAll(_sessions.Values.Select(s => s.Completion ?? Task.CompletedTask)).WaitAsync(timeout, time, CancellationToken.None);

    /// <summary>
    /// After a users-file reload: sessions of users removed, disabled or changed (a new password, root, target,
    /// limit) end once their running transfer has finished; the user logs in again with the new settings.
    /// </summary>
    public void CloseChangedUsers(UserDirectory current, ILogger logger)
    {
        foreach (var session in _sessions.Values)
        {
            if (session.User is { IsAnonymous: false, FromHook: false } user && !current.IsCurrent(user))
            {
                Log.UserSessionsClosing(logger, user.Name);
                _ = session.CloseForChangedUserAsync();
            }
        }
    }
}

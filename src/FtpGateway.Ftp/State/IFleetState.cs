namespace FtpGateway.Ftp.State;

/// <summary>A ban as the fleet knows it: the client (an IPv4 address or an IPv6 /64), the time left, the how-manieth ban.</summary>
internal readonly record struct FleetBan(string Client, TimeSpan Remaining, int Number);

/// <summary>What a fleet-wide failed-login count did.</summary>
/// <param name="Ban">the ban in force after it, if any.</param>
/// <param name="New">true when this failure made the ban (then this gateway announces it).</param>
internal readonly record struct FleetFailure(FleetBan? Ban, bool New);

/// <summary>A ban policy, as Security:Bans gives it, for the shared count.</summary>
internal readonly record struct BanPolicy(int MaxFailures, TimeSpan Window, TimeSpan Duration, TimeSpan MaxDuration);

/// <summary>Whether a lease was taken.</summary>
internal enum LeaseResult
{
    /// <summary>Taken: counted fleet-wide until released (or until its gateway stops renewing it).</summary>
    Taken,

    /// <summary>Refused: the scope holds its limit of leases already.</summary>
    Full,

    /// <summary>The shared state is unavailable: not checked; the lease is added when it is back.</summary>
    Unchecked,
}

/// <summary>A session as the fleet registry holds it (what the operator API shows).</summary>
internal sealed record FleetSession(
    string Id,
    string Gateway,
    string? User,
    string Client,
    DateTimeOffset Started,
    bool Tls,
    string? Command,
    string? Path,
    long Bytes);

/// <summary>What the operator API shows of a user's activity (on the fleet, or on this gateway alone).</summary>
internal sealed record UserActivityRecord(DateTimeOffset? LastLogin, DateTimeOffset? LastUpload, long UploadsToday, long BytesToday);

/// <summary>A message from another gateway (or the operator API) through the shared state.</summary>
internal abstract record FleetMessage(string Origin)
{
    public sealed record Banned(string Origin, FleetBan Ban) : FleetMessage(Origin);

    public sealed record Unbanned(string Origin, string Client) : FleetMessage(Origin);

    /// <summary>End a session (<paramref name="Now"/>: cut its transfer) on the gateway that runs it.</summary>
    public sealed record EndSession(string Origin, string SessionId, bool Now) : FleetMessage(Origin);
}

/// <summary>
/// The state N gateways share so that they behave as one (State:Redis): failed-login counts and bans, leases that
/// count sessions fleet-wide, the session registry, and messages between gateways. Every call fails fast with
/// <see cref="FleetStateUnavailableException"/> while the store is unreachable; callers then decide on what this
/// gateway knows (one gateway without the shared state behaves exactly as before).
/// </summary>
internal interface IFleetState : IAsyncDisposable
{
    /// <summary>This gateway's name in the fleet (Ftp:Replica, else the host name).</summary>
    string Gateway { get; }

    /// <summary>True while the store answers.</summary>
    bool IsAvailable { get; }

    /// <summary>Raised for every message of another gateway (never this one's own), one after the other, in the order sent.</summary>
    event Action<FleetMessage>? Received;

    /// <summary>Raised when the store is reachable again after it was not (and once at the first connection).</summary>
    event Action? Reconnected;

    /// <summary>Counts a failed login of <paramref name="client"/> on every gateway's count, in one step with the ban it may make.</summary>
    Task<FleetFailure> RecordFailureAsync(string client, BanPolicy policy, CancellationToken ct);

    /// <summary>
    /// Shares a ban made here (while the store was down, or by an operator) that began <paramref name="age"/> ago; a
    /// longer ban in force stays. False when an operator lifted the client's ban after this one began: the gateway
    /// that was away missed the unban and lifts its own ban too.
    /// </summary>
    Task<bool> ShareBanAsync(FleetBan ban, TimeSpan age, CancellationToken ct);

    /// <summary>Lifts a ban (and forgets the client's failures and offences) on every gateway; false when none was in force.</summary>
    Task<bool> LiftBanAsync(string client, CancellationToken ct);

    /// <summary>The bans in force now.</summary>
    Task<IReadOnlyList<FleetBan>> BansAsync(CancellationToken ct);

    /// <summary>Takes one of at most <paramref name="limit"/> leases of <paramref name="scope"/> for <paramref name="holder"/>.</summary>
    Task<LeaseResult> TryTakeLeaseAsync(string scope, string holder, int limit, CancellationToken ct);

    /// <summary>Gives a lease back (also when it was never checked); never throws.</summary>
    void ReleaseLease(string scope, string holder);

    /// <summary>How many leases <paramref name="scope"/> holds now.</summary>
    Task<int> CountLeasesAsync(string scope, CancellationToken ct);

    /// <summary>Registers a session; <paramref name="snapshot"/> is read whenever it is written (now, on <see cref="Touch"/>, and every few seconds).</summary>
    void Track(string sessionId, Func<FleetSession> snapshot);

    /// <summary>Writes the session's record now (a login, a transfer that starts or ends).</summary>
    void Touch(string sessionId);

    /// <summary>Removes the session from the registry.</summary>
    void Untrack(string sessionId);

    /// <summary>Every gateway's sessions.</summary>
    Task<IReadOnlyList<FleetSession>> SessionsAsync(CancellationToken ct);

    /// <summary>Sends a message to every other gateway.</summary>
    Task SendAsync(FleetMessage message, CancellationToken ct);

    /// <summary>Records a login (or, with <paramref name="upload"/>, a completed upload of <paramref name="bytes"/>) of a user; never throws.</summary>
    void RecordUser(string user, bool upload, long bytes, DateTimeOffset at);

    /// <summary>A user's activity on every gateway; <paramref name="day"/> (UTC) picks the counters; null when nothing was recorded.</summary>
    Task<UserActivityRecord?> UserActivityAsync(string user, DateOnly day, CancellationToken ct);

    /// <summary>Adds <paramref name="amount"/> to a counter that lives <paramref name="lifetime"/> from its first use; returns its value.</summary>
    Task<long> CountAsync(string counter, long amount, TimeSpan lifetime, CancellationToken ct);

    /// <summary>Keeps <paramref name="value"/> under <paramref name="key"/> for <paramref name="lifetime"/>.</summary>
    Task NoteAsync(string key, string value, TimeSpan lifetime, CancellationToken ct);

    /// <summary>What <see cref="NoteAsync"/> keeps under <paramref name="key"/>, while it lives; null otherwise.</summary>
    Task<string?> RecallAsync(string key, CancellationToken ct);

    /// <summary>Forgets <paramref name="key"/>.</summary>
    Task ForgetAsync(string key, CancellationToken ct);
}

/// <summary>The shared state could not be reached (or did not answer in time).</summary>
internal sealed class FleetStateUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

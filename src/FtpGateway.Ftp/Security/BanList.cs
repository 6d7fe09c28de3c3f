using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Telemetry;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Security;

/// <summary>What a failed login did to its address.</summary>
internal enum FailureOutcome
{
    /// <summary>Counted (or not counted at all: bans off, exempt); the address is not banned.</summary>
    Counted,

    /// <summary>This failure banned the address.</summary>
    BannedNow,

    /// <summary>The address was banned already (by another session's failure meanwhile).</summary>
    AlreadyBanned,
}

/// <summary>
/// Failed logins counted per client address across every session, and the bans they lead to. An IPv4 client is
/// counted by its address, an IPv6 client by its /64 network (one host usually owns a whole /64). A first ban
/// lasts <see cref="BanOptions.Duration"/>; an address banned again while its previous ban is remembered gets
/// twice the previous one, up to <see cref="BanOptions.MaxDuration"/>. Expired bans are lifted (and logged)
/// by a sweep on the server's clock, so a fake clock drives them in tests.
/// </summary>
internal sealed class BanList : IDisposable
{
    private readonly BanOptions _options;
    private readonly AddressList _exempt;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FtpTelemetry _telemetry;
    private readonly Dictionary<IPAddress, Offender> _offenders = [];
    private readonly Queue<IPAddress> _arrivals = new(); // keys in the order they were first tracked, for eviction
    private readonly Lock _lock = new();
    private readonly ITimer? _sweep;
    private int _banned;

    public BanList(BanOptions options, TimeProvider time, ILogger logger, FtpTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _exempt = options.ExemptNetworks;
        _time = time;
        _logger = logger;
        _telemetry = telemetry;
        telemetry.ObserveBans(() => Volatile.Read(ref _banned)); // 0 with bans off: the panel shows 0, not "No data"
        if (options.Enabled)
        {
            _sweep = time.CreateTimer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Security:Bans.</summary>
    public BanOptions Options => _options;

    /// <summary>Raised after a ban (address or /64, its duration, the how-manieth ban of it), outside the lock.</summary>
    public event Action<string, TimeSpan, int>? Banned;

    /// <summary>Bans in force now.</summary>
    public int Active => Volatile.Read(ref _banned);

    /// <summary>True while <paramref name="address"/> is banned.</summary>
    public bool IsBanned(IPAddress address)
    {
        if (!_options.Enabled || Volatile.Read(ref _banned) == 0 || _exempt.Contains(address))
        {
            return false; // an exempt host is never refused, even when its /64 neighbour is banned
        }

        var key = Addresses.ClientKey(address);
        lock (_lock)
        {
            return _offenders.TryGetValue(key, out var offender) && StillBanned(key, offender, _time.GetTimestamp());
        }
    }

    /// <summary>Counts a failed login from <paramref name="address"/>, in one step with the ban it may lead to.</summary>
    public FailureOutcome RecordFailure(IPAddress address)
    {
        if (!_options.Enabled || _exempt.Contains(address))
        {
            return FailureOutcome.Counted;
        }

        var outcome = Record(Addresses.ClientKey(address), out var ban);
        if (ban is { } b)
        {
            Banned?.Invoke(b.Address, b.Duration, b.Number);
        }

        return outcome;
    }

    private FailureOutcome Record(IPAddress key, out (string Address, TimeSpan Duration, int Number)? ban)
    {
        ban = null;
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (!_offenders.TryGetValue(key, out var offender))
            {
                if (_offenders.Count >= _options.MaxTrackedAddresses)
                {
                    EvictOldest(now);
                }

                _offenders[key] = offender = new Offender();
                _arrivals.Enqueue(key);
            }

            if (StillBanned(key, offender, now))
            {
                return FailureOutcome.AlreadyBanned;
            }

            while (offender.Failures.TryPeek(out var first) && _time.GetElapsedTime(first, now) > _options.Window)
            {
                offender.Failures.Dequeue();
            }

            offender.Failures.Enqueue(now);
            if (offender.Failures.Count < _options.MaxFailures)
            {
                return FailureOutcome.Counted;
            }

            var remembered = offender.Bans > 0 && _time.GetElapsedTime(offender.LastBanEnded, now) <= _options.MaxDuration;
            offender.Bans = remembered ? offender.Bans + 1 : 1;
            var duration = offender.Bans == 1
                ? _options.Duration
                : TimeSpan.FromTicks(Math.Min(_options.MaxDuration.Ticks, offender.Duration.Ticks * 2));
            offender.Duration = duration;
            offender.BannedUntil = now + (long)(duration.TotalSeconds * _time.TimestampFrequency);
            var failures = offender.Failures.Count;
            offender.Failures.Clear();
            offender.Shared = false;
            _banned++;
            _telemetry.Bans.Add(1);
            Log.Banned(_logger, Describe(key), (long)duration.TotalSeconds, failures, (long)_options.Window.TotalSeconds, offender.Bans);
            ban = (Describe(key), duration, offender.Bans);
            return FailureOutcome.BannedNow;
        }
    }

    /// <summary>
    /// Takes over a ban the fleet made (State:Redis): the client is refused here too for <paramref name="remaining"/>;
    /// <paramref name="announce"/> when this gateway's failure made it (then the Banned event is raised here).
    /// </summary>
    public void Apply(string client, TimeSpan remaining, int number, bool announce)
    {
        if (!_options.Enabled || !TryParseClient(client, out var key) || remaining <= TimeSpan.Zero)
        {
            return;
        }

        var now = _time.GetTimestamp();
        bool isNew;
        lock (_lock)
        {
            if (!_offenders.TryGetValue(key, out var offender))
            {
                if (_offenders.Count >= _options.MaxTrackedAddresses)
                {
                    EvictOldest(now);
                }

                _offenders[key] = offender = new Offender();
                _arrivals.Enqueue(key);
            }

            isNew = !StillBanned(key, offender, now);
            offender.BannedUntil = now + (long)(remaining.TotalSeconds * _time.TimestampFrequency);
            offender.Bans = number;
            offender.Duration = isNew || remaining > offender.Duration ? remaining : offender.Duration;
            offender.Failures.Clear();
            offender.Shared = true;
            if (isNew)
            {
                _banned++;
            }
        }

        if (isNew && announce)
        {
            _telemetry.Bans.Add(1);
            Log.Banned(_logger, client, (long)remaining.TotalSeconds, _options.MaxFailures, (long)_options.Window.TotalSeconds, number);
            Banned?.Invoke(client, remaining, number);
        }
        else if (isNew)
        {
            Log.BannedByFleet(_logger, client, (long)remaining.TotalSeconds, number);
        }
    }

    /// <summary>Lifts a ban (an operator's unban) and forgets the client's failures and offences; false when none was in force.</summary>
    public bool Lift(string client)
    {
        if (!TryParseClient(client, out var key))
        {
            return false;
        }

        lock (_lock)
        {
            if (!_offenders.Remove(key, out var offender))
            {
                return false;
            }

            var wasBanned = offender.BannedUntil != 0 && _time.GetTimestamp() < offender.BannedUntil;
            if (offender.BannedUntil != 0)
            {
                _banned--;
            }

            if (wasBanned)
            {
                Log.Unbanned(_logger, client);
            }

            return wasBanned;
        }
    }

    /// <summary>Marks a ban made here as known to the fleet.</summary>
    public void MarkShared(string client)
    {
        if (TryParseClient(client, out var key))
        {
            lock (_lock)
            {
                if (_offenders.TryGetValue(key, out var offender))
                {
                    offender.Shared = true;
                }
            }
        }
    }

    /// <summary>The bans in force here: the client, the time left, the how-manieth ban, how long ago it began, and whether the fleet knows it.</summary>
    public IReadOnlyList<(string Client, TimeSpan Remaining, int Number, TimeSpan Age, bool Shared)> InForce()
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            return [.. _offenders
                .Where(o => StillBanned(o.Key, o.Value, now))
                .Select(o =>
                {
                    var remaining = TimeSpan.FromSeconds((o.Value.BannedUntil - now) / (double)_time.TimestampFrequency);
                    var age = o.Value.Duration - remaining;
                    return (Describe(o.Key), remaining, o.Value.Bans, age > TimeSpan.Zero ? age : TimeSpan.Zero, o.Value.Shared);
                })];
        }
    }

    /// <summary>The key of a client as bans count it: <c>192.0.2.7</c>, or an IPv6 /64 (<c>2001:db8:1:2::/64</c>).</summary>
    public static string ClientKey(IPAddress address) => Describe(Addresses.ClientKey(address));

    /// <summary>Parses <see cref="ClientKey"/>'s form (an address, or an IPv6 network with /64, or any IPv6 address of it).</summary>
    public static bool TryParseClient(string client, out IPAddress key)
    {
        key = IPAddress.None;
        var text = client.EndsWith("/64", StringComparison.Ordinal) ? client[..^3] : client;
        if (!IPAddress.TryParse(text, out var address) || (client.Length != text.Length && address.AddressFamily != AddressFamily.InterNetworkV6))
        {
            return false;
        }

        key = Addresses.ClientKey(Addresses.Normalize(address));
        return true;
    }

    /// <summary>Lifts expired bans and forgets addresses with nothing left to remember.</summary>
    internal void Sweep()
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            List<IPAddress>? forget = null;
            foreach (var (key, offender) in _offenders)
            {
                StillBanned(key, offender, now);
                if (Forgettable(offender, now))
                {
                    (forget ??= []).Add(key);
                }
            }

            if (forget is not null)
            {
                forget.ForEach(key => _offenders.Remove(key));
                var kept = _arrivals.Where(_offenders.ContainsKey).ToList();
                _arrivals.Clear();
                kept.ForEach(_arrivals.Enqueue);
            }
        }
    }

    /// <summary>True while banned; lifts (and logs) a ban whose time is up. Called under the lock.</summary>
    private bool StillBanned(IPAddress key, Offender offender, long now)
    {
        if (offender.BannedUntil == 0)
        {
            return false;
        }

        if (now < offender.BannedUntil)
        {
            return true;
        }

        offender.BannedUntil = 0;
        offender.LastBanEnded = now;
        _banned--;
        Log.Unbanned(_logger, Describe(key));
        return false;
    }

    private bool Forgettable(Offender offender, long now) =>
        offender.BannedUntil == 0
        && (offender.Failures.Count == 0 || _time.GetElapsedTime(offender.Failures.Last(), now) > _options.Window)
        && (offender.Bans == 0 || _time.GetElapsedTime(offender.LastBanEnded, now) > _options.MaxDuration);

    /// <summary>
    /// When the table is full, the address tracked longest ago that is not banned makes room (its failures are
    /// forgotten): a flood of new addresses can never stop failures from being counted. Bans in force stay.
    /// </summary>
    private void EvictOldest(long now)
    {
        for (var tries = _arrivals.Count; tries > 0 && _arrivals.TryDequeue(out var key); tries--)
        {
            if (!_offenders.TryGetValue(key, out var offender))
            {
                continue; // forgotten by the sweep already
            }

            if (StillBanned(key, offender, now))
            {
                _arrivals.Enqueue(key);
                continue;
            }

            _offenders.Remove(key);
            return;
        }
    }

    private static string Describe(IPAddress key) => key.AddressFamily == AddressFamily.InterNetworkV6 ? key + "/64" : key.ToString();

    public void Dispose() => _sweep?.Dispose();

    private sealed class Offender
    {
        public Queue<long> Failures { get; } = new();

        public long BannedUntil { get; set; }

        public long LastBanEnded { get; set; }

        public int Bans { get; set; }

        public TimeSpan Duration { get; set; }

        /// <summary>True when the fleet's shared state knows this ban (it came from there, or was shared).</summary>
        public bool Shared { get; set; }
    }
}

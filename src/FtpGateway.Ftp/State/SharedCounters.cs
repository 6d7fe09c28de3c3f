using System.Collections.Concurrent;

namespace FtpGateway.Ftp.State;

/// <summary>
/// Counters and notes that live for a while — the devices' guardrails, and who stored what for
/// <c>ownUploadsEditableFor</c> — on the fleet's shared state when there is one (so the limits and the Test button
/// hold across gateways), and on this gateway while there is none or it does not answer.
/// </summary>
internal sealed class SharedCounters(TimeProvider time, IFleetState? fleet)
{
    private const int MaxLocal = 200_000; // a bound, not a leak: expired entries are swept when it is reached
    private readonly ConcurrentDictionary<string, (long Value, string? Text, DateTimeOffset Expires)> _local = new(StringComparer.Ordinal);

    public async Task<long> CountAsync(string counter, long amount, TimeSpan lifetime, CancellationToken ct)
    {
        if (fleet is { IsAvailable: true })
        {
            try
            {
                return await fleet.CountAsync(counter, amount, lifetime, ct);
            }
            catch (FleetStateUnavailableException)
            {
                // this gateway's own count, below
            }
        }

        var now = time.GetUtcNow();
        Sweep(now);
        return _local.AddOrUpdate(
            counter,
            _ => (amount, null, now + lifetime),
            (_, old) => old.Expires > now ? (old.Value + amount, null, old.Expires) : (amount, null, now + lifetime)).Value;
    }

    public async Task NoteAsync(string key, string value, TimeSpan lifetime, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        Sweep(now);
        _local[key] = (0, value, now + lifetime); // kept here too: this gateway answers if the store goes away
        if (fleet is { IsAvailable: true })
        {
            try
            {
                await fleet.NoteAsync(key, value, lifetime, ct);
            }
            catch (FleetStateUnavailableException)
            {
                // this gateway's own note stands
            }
        }
    }

    public async Task<string?> RecallAsync(string key, CancellationToken ct)
    {
        if (fleet is { IsAvailable: true })
        {
            try
            {
                return await fleet.RecallAsync(key, ct);
            }
            catch (FleetStateUnavailableException)
            {
                // this gateway's own note, below
            }
        }

        return _local.TryGetValue(key, out var note) && note.Expires > time.GetUtcNow() ? note.Text : null;
    }

    public async Task ForgetAsync(string key, CancellationToken ct)
    {
        _local.TryRemove(key, out _);
        if (fleet is { IsAvailable: true })
        {
            try
            {
                await fleet.ForgetAsync(key, ct);
            }
            catch (FleetStateUnavailableException)
            {
                // expires on its own
            }
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        if (_local.Count < MaxLocal)
        {
            return;
        }

        foreach (var (key, entry) in _local)
        {
            if (entry.Expires <= now)
            {
                _local.TryRemove(key, out _);
            }
        }
    }
}

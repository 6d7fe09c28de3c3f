using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// Where the gateway with a given ordinal is: Ftp:Relay:PeerAddresses:N, or Ftp:Relay:PeerHost with
/// <c>{ordinal}</c> resolved (an answer is kept 10 s: a pod that restarts gets a new address).
/// </summary>
internal sealed class PeerDirectory(RelaySettings settings, TimeProvider time)
{
    private static readonly TimeSpan Keep = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<int, (IPAddress Address, long Resolved)> _resolved = new();

    /// <summary>The peer's address, or null when there is none for <paramref name="ordinal"/> (not configured, not resolvable).</summary>
    /// <summary>Forgets a resolved address that could not be reached (a pod that came back elsewhere).</summary>
    public void Forget(int ordinal) => _resolved.TryRemove(ordinal, out _);

    public async Task<IPAddress?> FindAsync(int ordinal, CancellationToken ct)
    {
        if (ordinal < settings.PeerAddresses.Count)
        {
            return settings.PeerAddresses[ordinal];
        }

        if (settings.PeerHost is not { } host)
        {
            return null;
        }

        if (_resolved.TryGetValue(ordinal, out var known) && time.GetElapsedTime(known.Resolved) < Keep)
        {
            return known.Address;
        }

        try
        {
            var name = host.Replace("{ordinal}", ordinal.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var addresses = await Dns.GetHostAddressesAsync(name, ct);
            var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            if (address is not null)
            {
                _resolved[ordinal] = (address, time.GetTimestamp());
            }

            return address;
        }
        catch (SocketException)
        {
            return null; // no such gateway (scaled down, not started)
        }
    }
}

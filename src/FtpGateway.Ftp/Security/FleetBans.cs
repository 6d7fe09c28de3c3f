using System.Net;
using FtpGateway.Ftp.State;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Security;

/// <summary>
/// Bans across the fleet (State:Redis). Every gateway keeps its own <see cref="BanList"/>, which answers "is this
/// client banned?" without a round trip; failed logins are counted on the shared count as well, a ban the fleet
/// makes reaches every gateway's list through the store's messages (within a second), and an unban lifts it
/// everywhere. While the store is unreachable a gateway counts and bans alone, as one gateway without the shared
/// state always does; the bans it made meanwhile are shared when the store is back, and the fleet's bans are read
/// again.
/// </summary>
internal sealed class FleetBans
{
    private readonly BanList _local;
    private readonly IFleetState? _fleet;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _pendingLifts = new(StringComparer.Ordinal);
    private readonly BanOptions _options;
    private readonly ILogger _logger;

    public FleetBans(BanList local, IFleetState? fleet, BanOptions options, ILogger logger)
    {
        _local = local;
        _fleet = fleet;
        _options = options;
        _logger = logger;
        if (fleet is not null && options.Enabled)
        {
            fleet.Received += OnReceived;
            fleet.Reconnected += () => _ = ResyncAsync(CancellationToken.None);
        }
    }

    private BanPolicy Policy => new(_options.MaxFailures, _options.Window, _options.Duration, _options.MaxDuration);

    /// <summary>True while the client is banned (on this gateway's list, which the fleet's bans reach).</summary>
    public bool IsBanned(IPAddress address) => _local.IsBanned(address);

    /// <summary>Counts a failed login here and on the fleet's count, in one step with the ban either may make.</summary>
    public async Task<FailureOutcome> RecordFailureAsync(IPAddress address, CancellationToken ct)
    {
        var local = _local.RecordFailure(address);
        if (_fleet is null || !_options.Enabled || _options.ExemptNetworks.Contains(address))
        {
            return local;
        }

        var client = BanList.ClientKey(address);
        try
        {
            var shared = await _fleet.RecordFailureAsync(client, Policy, ct);
            if (shared.Ban is { } ban)
            {
                // The fleet's ban (its length and number) is the one in force everywhere; a new one is announced here.
                _local.Apply(client, ban.Remaining, ban.Number, announce: shared.New && local == FailureOutcome.Counted);
                return local == FailureOutcome.Counted ? (shared.New ? FailureOutcome.BannedNow : FailureOutcome.AlreadyBanned) : local;
            }

            if (local == FailureOutcome.BannedNow)
            {
                await ShareAsync(client, ct); // counted here while the store was away: the fleet learns it now
            }
        }
        catch (FleetStateUnavailableException ex)
        {
            Log.FleetStateUnavailable(_logger, "failed login", ex.Message); // counted here; shared when the store is back
        }

        return local;
    }

    /// <summary>Bans a client for <paramref name="duration"/> on every gateway (the operator API).</summary>
    public async Task BanAsync(string client, TimeSpan duration, CancellationToken ct)
    {
        _local.Apply(client, duration, 1, announce: true);
        if (_fleet is not null)
        {
            await ShareAsync(client, ct);
        }
    }

    /// <summary>
    /// Lifts the client's ban on every gateway; false when none was in force. While the store is away it is lifted
    /// here at once and on the others when the store is back.
    /// </summary>
    public async Task<bool> LiftAsync(string client, CancellationToken ct)
    {
        var lifted = _local.Lift(client);
        if (_fleet is null)
        {
            return lifted;
        }

        try
        {
            lifted |= await _fleet.LiftBanAsync(client, ct);
        }
        catch (FleetStateUnavailableException ex)
        {
            Log.FleetStateUnavailable(_logger, "unban", ex.Message);
            _pendingLifts[client] = 0;
        }

        return lifted;
    }

    /// <summary>The bans in force: the fleet's (and any made here meanwhile), or this gateway's without the store.</summary>
    public async Task<IReadOnlyList<FleetBan>> InForceAsync(CancellationToken ct)
    {
        var here = _local.InForce().Select(b => new FleetBan(b.Client, b.Remaining, b.Number)).ToList();
        if (_fleet is null)
        {
            return here;
        }

        try
        {
            var fleet = await _fleet.BansAsync(ct);
            return [.. fleet, .. here.Where(h => !fleet.Any(f => f.Client == h.Client))];
        }
        catch (FleetStateUnavailableException ex)
        {
            Log.FleetStateUnavailable(_logger, "ban list", ex.Message);
            return here;
        }
    }

    private async Task ShareAsync(string client, CancellationToken ct)
    {
        if (_local.InForce().FirstOrDefault(b => b.Client == client) is { Client: not null } ban)
        {
            try
            {
                await ShareOrLiftAsync(ban, ct);
            }
            catch (FleetStateUnavailableException ex)
            {
                Log.FleetStateUnavailable(_logger, "ban", ex.Message);
            }
        }
    }

    /// <summary>Shares one of this gateway's bans; lifts it here when the fleet says an operator lifted it after it began.</summary>
    private async Task ShareOrLiftAsync((string Client, TimeSpan Remaining, int Number, TimeSpan Age, bool Shared) ban, CancellationToken ct)
    {
        if (await _fleet!.ShareBanAsync(new FleetBan(ban.Client, ban.Remaining, ban.Number), ban.Age, ct))
        {
            _local.MarkShared(ban.Client);
        }
        else
        {
            _local.Lift(ban.Client);
        }
    }

    private void OnReceived(FleetMessage message)
    {
        switch (message)
        {
            case FleetMessage.Banned banned:
                _local.Apply(banned.Ban.Client, banned.Ban.Remaining, banned.Ban.Number, announce: false);
                break;
            case FleetMessage.Unbanned unbanned:
                _local.Lift(unbanned.Client);
                break;
        }
    }

    /// <summary>
    /// The store is back: the unbans made here meanwhile go to the fleet; every ban of this gateway is shared
    /// again (a Redis that restarted empty forgot them), unless an operator lifted it after it began (an unban this
    /// gateway missed: lifted here too); then the fleet's bans are taken over.
    /// </summary>
    private async Task ResyncAsync(CancellationToken ct)
    {
        try
        {
            foreach (var client in _pendingLifts.Keys)
            {
                await _fleet!.LiftBanAsync(client, ct);
                _pendingLifts.TryRemove(client, out _);
            }

            foreach (var ban in _local.InForce())
            {
                await ShareOrLiftAsync(ban, ct);
            }

            foreach (var ban in await _fleet!.BansAsync(ct))
            {
                _local.Apply(ban.Client, ban.Remaining, ban.Number, announce: false);
            }
        }
        catch (FleetStateUnavailableException ex)
        {
            Log.FleetStateUnavailable(_logger, "ban resync", ex.Message); // the next return of the store tries again
        }
    }
}

using FtpGateway.Ftp.State;
using StackExchange.Redis;

namespace FtpGateway.State.Redis;

/// <summary>Leases that count sessions on every gateway: taken here, renewed by <c>RenewAsync</c>, given back when a session ends.</summary>
internal sealed partial class RedisFleetState
{
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
}

using FtpGateway.Ftp.State;
using StackExchange.Redis;

namespace FtpGateway.State.Redis;

/// <summary>The fleet's failed-login counts and bans (the Lua scripts <see cref="Scripts.Failure"/>, Share, Lift, Bans).</summary>
internal sealed partial class RedisFleetState
{
    public async Task<FleetFailure> RecordFailureAsync(string client, BanPolicy policy, CancellationToken ct)
    {
        var r = (RedisResult[])(await EvalAsync(
            Scripts.Failure,
            [Key("failures:", client), Key("offence:", client), Key("bans")],
            [client, policy.MaxFailures, Ms(policy.Window), Ms(policy.Duration), Ms(policy.MaxDuration), Guid.NewGuid().ToString("N"), Gateway, _channelName],
            ct))!;
        var remaining = (long)r[1];
        return remaining <= 0 ? new FleetFailure(null, false) : new FleetFailure(new FleetBan(client, TimeSpan.FromMilliseconds(remaining), (int)r[2]), (int)r[0] == 1);
    }

    public async Task<bool> ShareBanAsync(FleetBan ban, TimeSpan age, CancellationToken ct) =>
        (int)await EvalAsync(
            Scripts.Share,
            [Key("bans"), Key("offence:", ban.Client), Key("unbans")],
            [ban.Client, Ms(ban.Remaining), ban.Number, Gateway, Ms(TimeSpan.FromDays(1)), _channelName, Ms(age)],
            ct) != -1;

    public async Task<bool> LiftBanAsync(string client, CancellationToken ct) =>
        (int)(await EvalAsync(Scripts.Lift, [Key("bans"), Key("offence:", client), Key("failures:", client), Key("unbans")], [client, Gateway, _channelName], ct)) == 1;

    public async Task<IReadOnlyList<FleetBan>> BansAsync(CancellationToken ct)
    {
        var r = (RedisResult[])(await EvalAsync(Scripts.Bans, [Key("bans")], [_prefix + "offence:"], ct))!;
        var bans = new List<FleetBan>(r.Length / 3);
        for (var i = 0; i + 2 < r.Length; i += 3)
        {
            bans.Add(new FleetBan((string)r[i]!, TimeSpan.FromMilliseconds((long)r[i + 1]), (int)r[i + 2]));
        }

        return bans;
    }
}

using System.Net;
using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Security;

public sealed class BanListTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FtpTelemetry _telemetry = new();

    private BanList Create(BanOptions options) => new(options, _time, NullLogger.Instance, _telemetry);

    [Fact]
    public void FailuresOutsideTheWindow_DoNotAddUp()
    {
        using var bans = Create(new BanOptions { MaxFailures = 3, Window = TimeSpan.FromMinutes(10) });
        var address = IPAddress.Parse("203.0.113.5");
        Assert.Equal(FailureOutcome.Counted, bans.RecordFailure(address));
        Assert.Equal(FailureOutcome.Counted, bans.RecordFailure(address));
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(FailureOutcome.Counted, bans.RecordFailure(address));
        Assert.Equal(FailureOutcome.Counted, bans.RecordFailure(address));
        Assert.Equal(FailureOutcome.BannedNow, bans.RecordFailure(address));
        Assert.True(bans.IsBanned(address));
        Assert.Equal(1, bans.Active);
    }

    [Fact]
    public void ARepeatOffendersBan_Doubles_UpToTheCap_AndIsForgottenAfterACleanCap()
    {
        using var bans = Create(new BanOptions { MaxFailures = 1, Duration = TimeSpan.FromMinutes(15), MaxDuration = TimeSpan.FromHours(1) });
        var address = IPAddress.Parse("203.0.113.9");
        foreach (var expected in new[] { 15, 30, 60, 60 })
        {
            Assert.Equal(FailureOutcome.BannedNow, bans.RecordFailure(address));
            _time.Advance(TimeSpan.FromMinutes(expected) - TimeSpan.FromSeconds(1));
            Assert.True(bans.IsBanned(address), $"still banned just before {expected} minutes");
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.False(bans.IsBanned(address), $"free after {expected} minutes");
        }

        _time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1)); // a clean MaxDuration: the past is forgotten
        bans.Sweep();
        Assert.Equal(FailureOutcome.BannedNow, bans.RecordFailure(address));
        _time.Advance(TimeSpan.FromMinutes(15));
        Assert.False(bans.IsBanned(address));
    }

    [Fact]
    public void IPv6Clients_AreCountedPer64Network()
    {
        using var bans = Create(new BanOptions { MaxFailures = 2 });
        Assert.Equal(FailureOutcome.Counted, bans.RecordFailure(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.Equal(FailureOutcome.BannedNow, bans.RecordFailure(IPAddress.Parse("2001:db8:1:2:ffff::9"))); // same /64, another host
        Assert.True(bans.IsBanned(IPAddress.Parse("2001:db8:1:2::77")));
        Assert.False(bans.IsBanned(IPAddress.Parse("2001:db8:1:3::1")));
    }

    [Fact]
    public void ExemptAndDisabled_NeverBan()
    {
        using var exempt = Create(new BanOptions { MaxFailures = 1, Exempt = ["10.0.0.0/8"] });
        Assert.Equal(FailureOutcome.Counted, exempt.RecordFailure(IPAddress.Parse("10.1.1.1")));
        Assert.False(exempt.IsBanned(IPAddress.Parse("10.1.1.1")));
        using var disabled = Create(new BanOptions { MaxFailures = 1, Enabled = false });
        Assert.Equal(FailureOutcome.Counted, disabled.RecordFailure(IPAddress.Parse("203.0.113.1")));
    }

    [Fact]
    public void AFullTable_ForgetsTheOldestUnbannedAddress_AndKeepsItsBans()
    {
        using var bans = Create(new BanOptions { MaxFailures = 2, MaxTrackedAddresses = 2 });
        Assert.Equal(FailureOutcome.Counted, bans.RecordFailure(IPAddress.Parse("203.0.113.1")));
        Assert.Equal(FailureOutcome.BannedNow, bans.RecordFailure(IPAddress.Parse("203.0.113.1")));
        Assert.Equal(FailureOutcome.Counted, bans.RecordFailure(IPAddress.Parse("203.0.113.2")));
        Assert.Equal(FailureOutcome.Counted, bans.RecordFailure(IPAddress.Parse("203.0.113.3"))); // .2 makes room, .1 stays banned
        Assert.Equal(FailureOutcome.BannedNow, bans.RecordFailure(IPAddress.Parse("203.0.113.3"))); // new addresses are still counted
        Assert.True(bans.IsBanned(IPAddress.Parse("203.0.113.1")));
        Assert.Equal(FailureOutcome.AlreadyBanned, bans.RecordFailure(IPAddress.Parse("203.0.113.1")));
    }

    [Fact]
    public void AnExemptIPv6Host_IsNotRefused_WhenItsNeighbourIsBanned()
    {
        using var bans = Create(new BanOptions { MaxFailures = 1, Exempt = ["2001:db8::5/128"] });
        Assert.Equal(FailureOutcome.BannedNow, bans.RecordFailure(IPAddress.Parse("2001:db8::6")));
        Assert.True(bans.IsBanned(IPAddress.Parse("2001:db8::7")));
        Assert.False(bans.IsBanned(IPAddress.Parse("2001:db8::5")));
    }

    public void Dispose() => _telemetry.Dispose();
}

using System.Net;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Security;

public sealed class AddressListTests
{
    [Fact]
    public void Networks_MatchIPv4IPv6AndMappedAddresses()
    {
        var list = AddressList.Parse(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7", "::ffff:198.51.100.0/120"], "Security:AllowedAddresses");
        Assert.True(list.Contains(IPAddress.Parse("10.200.3.4")));
        Assert.True(list.Contains(IPAddress.Parse("::ffff:10.1.2.3"))); // a dual-mode socket's view of an IPv4 client
        Assert.True(list.Contains(IPAddress.Parse("2001:db8:1::5")));
        Assert.True(list.Contains(IPAddress.Parse("192.0.2.7")));
        Assert.False(list.Contains(IPAddress.Parse("192.0.2.8")));
        Assert.True(list.Contains(IPAddress.Parse("198.51.100.99")));
        Assert.False(list.Contains(IPAddress.Parse("2001:db9::1")));
        Assert.False(list.Contains(IPAddress.Parse("11.0.0.1")));
    }

    [Theory]
    [InlineData("10.0.0.1/8")] // host bits set
    [InlineData("10.0.0.0/33")]
    [InlineData("not-an-address")]
    [InlineData("10.0.0.0/")]
    [InlineData("")]
    public void BadEntries_AreStartUpErrorsNamingTheKey(string entry)
    {
        var errors = new List<string>();
        AddressList.Parse(["10.0.0.0/8", entry], "Security:DeniedAddresses", errors);
        Assert.Single(errors);
        Assert.StartsWith("Security:DeniedAddresses:1 ", errors[0], StringComparison.Ordinal);
    }
}

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

public sealed class ProxyHeaderTests
{
    [Fact]
    public void V1_TCP4_TCP6_AndUnknown()
    {
        var v4 = ProxyHeader.ParseV1("TCP4 198.51.100.7 10.0.0.1 40000 21");
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.7"), 40000), v4.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 21), v4.Destination);
        var v6 = ProxyHeader.ParseV1("TCP6 2001:db8::7 2001:db8::1 40000 21");
        Assert.Equal(IPAddress.Parse("2001:db8::7"), v6.Source!.Address);
        Assert.Null(ProxyHeader.ParseV1("UNKNOWN").Source);
        Assert.Null(ProxyHeader.ParseV1("UNKNOWN ff ff 1 2").Source);
    }

    [Theory]
    [InlineData("TCP4 198.51.100.7 10.0.0.1 40000")]
    [InlineData("TCP4 198.51.100.7 10.0.0.1 040000 21")]
    [InlineData("UDP4 198.51.100.7 10.0.0.1 40000 21")]
    [InlineData("TCP4 2001:db8::7 10.0.0.1 40000 21")]
    [InlineData("TCP4  198.51.100.7 10.0.0.1 40000 21")]
    [InlineData("TCP4 1 2 40000 21")]                  // was taken as client 0.0.0.1
    [InlineData("TCP4 198.51.100 10.0.0.1 40000 21")]
    [InlineData("TCP4 0x7f.0.0.1 10.0.0.1 40000 21")]
    [InlineData("TCP4 198.51.100.07 10.0.0.1 40000 21")]
    [InlineData("TCP4 198.51.100.256 10.0.0.1 40000 21")]
    [InlineData("TCP6 2001:db8::7%eth0 2001:db8::1 40000 21")]
    [InlineData("TCP6 [2001:db8::7] 2001:db8::1 40000 21")]
    public void V1_Malformed_Throws(string line) => Assert.Throws<ProxyHeaderException>(() => ProxyHeader.ParseV1(line));

    [Fact]
    public void V2_Ipv6_Local_AndBadCommands()
    {
        var block = new byte[36];
        IPAddress.Parse("2001:db8::7").GetAddressBytes().CopyTo(block, 0);
        IPAddress.Parse("2001:db8::1").GetAddressBytes().CopyTo(block, 16);
        block[32] = 0x9C;
        block[33] = 0x40; // 40000
        block[35] = 21;
        var header = ProxyHeader.ParseV2(0x21, 0x21, block);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 40000), header.Source);
        Assert.Equal(21, header.Destination!.Port);
        Assert.Null(ProxyHeader.ParseV2(0x20, 0x00, []).Source);
        Assert.Throws<ProxyHeaderException>(() => ProxyHeader.ParseV2(0x22, 0x11, new byte[12]));
        Assert.Throws<ProxyHeaderException>(() => ProxyHeader.ParseV2(0x11, 0x11, new byte[12]));
        Assert.Throws<ProxyHeaderException>(() => ProxyHeader.ParseV2(0x21, 0x21, new byte[12]));
    }
}

public sealed class PasswordChecksTests
{
    [Fact]
    public async Task WaitingChecks_AreServedInTurnPerAddress()
    {
        using var checks = new PasswordChecks(1);
        using var gate = new ManualResetEventSlim();
        var order = new List<string>();
        var flood = IPAddress.Parse("203.0.113.1");
        var blocker = checks.RunAsync(flood, () => gate.Wait(TimeSpan.FromSeconds(10)), () => true, false, CancellationToken.None);
        await Poll.UntilAsync(() => checks.Waiting == 0, "the first check running");
        var tasks = Enumerable.Range(0, 5)
            .Select(i => checks.RunAsync(flood, () => { lock (order) { order.Add("flood"); } return true; }, () => true, false, CancellationToken.None))
            .Append(checks.RunAsync(IPAddress.Parse("203.0.113.2"), () => { lock (order) { order.Add("other"); } return true; }, () => true, false, CancellationToken.None))
            .ToList();
        gate.Set();
        await Task.WhenAll(tasks);
        Assert.True(await blocker);
        Assert.True(order.IndexOf("other") <= 1, string.Join(",", order)); // not behind the whole flood
    }

    [Fact]
    public async Task ACheckNoLongerWanted_IsSkipped()
    {
        using var checks = new PasswordChecks(1);
        var ran = false;
        var result = await checks.RunAsync(IPAddress.Loopback, () => ran = true, () => false, false, CancellationToken.None);
        Assert.False(result);
        Assert.False(ran);
    }
}

using System.Net;
using FtpGateway.Ftp.Security;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Security;

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

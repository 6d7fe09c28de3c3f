using System.Net;
using FtpGateway.Ftp.Security;

namespace FtpGateway.Ftp.Tests.Security;

/// <summary>Hook requests in turns per client: skipped, abandoned and fair, whatever their number.</summary>
public sealed class ClientTurnsTests
{
    private static readonly IPAddress Flooder = IPAddress.Parse("198.51.100.7");

    [Fact]
    public async Task Fifty_ThousandSkippedRequests_DrainWithoutGrowingTheStack()
    {
        // Regression: each request that finished at once started the next one from inside its own completion;
        // 20,000 skipped in a row overflowed the stack and ended the process.
        var turns = new ClientTurns(concurrency: 1, perClient: 1);
        var gate = new TaskCompletionSource<int>();
        var first = turns.RunAsync(Flooder, _ => gate.Task, () => true, -1, CancellationToken.None);
        var skipped = Enumerable.Range(0, 50_000).Select(_ => turns.RunAsync(Flooder, _ => Task.FromResult(1), () => false, 0, CancellationToken.None)).ToList();
        Assert.Equal(50_000, turns.Waiting);
        gate.SetResult(7);
        Assert.Equal(7, await first);
        Assert.All(await Task.WhenAll(skipped), r => Assert.Equal(0, r));
        Assert.Equal(0, turns.Waiting);
    }

    [Fact]
    public async Task ARequestWhoseSessionEnds_LeavesTheQueueAtOnce()
    {
        var turns = new ClientTurns(concurrency: 1, perClient: 1);
        var gate = new TaskCompletionSource<int>();
        var first = turns.RunAsync(Flooder, _ => gate.Task, () => true, -1, CancellationToken.None);
        using var session = new CancellationTokenSource();
        var abandoned = turns.RunAsync(Flooder, _ => Task.FromResult(1), () => true, 0, session.Token);
        Assert.Equal(1, turns.Waiting);
        await session.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.Equal(0, turns.Waiting);
        gate.SetResult(1);
        await first;
    }

    [Fact]
    public async Task AnotherClient_IsServedNext_NotAfterTheFlood()
    {
        var turns = new ClientTurns(concurrency: 1, perClient: 4);
        var order = new List<string>();
        var gate = new TaskCompletionSource();
        async Task<int> Log(string who)
        {
            lock (order)
            {
                order.Add(who);
            }

            await gate.Task;
            return 0;
        }

        var flood = Enumerable.Range(0, 20).Select(i => turns.RunAsync(Flooder, _ => Log("flood"), () => true, 0, CancellationToken.None)).ToList();
        var other = turns.RunAsync(IPAddress.Parse("203.0.113.9"), _ => Log("other"), () => true, 0, CancellationToken.None);
        gate.SetResult();
        await Task.WhenAll([.. flood, other]);
        Assert.InRange(order.IndexOf("other"), 1, 2); // the flood's one in flight, at most one more of it, then the other client's turn
    }
}

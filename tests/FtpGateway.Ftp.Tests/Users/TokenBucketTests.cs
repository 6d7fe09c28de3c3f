using FtpGateway.Ftp.Users;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Users;

/// <summary>
/// A user's bandwidth limit, on a fake clock: the sessions that share a bucket share its rate, a bucket starts
/// empty, and an idle bucket saves up one second's worth at most. (Over real sockets: BandwidthLimitTests.)
/// </summary>
public sealed class TokenBucketTests
{
    private const int Rate = 256 * 1024;

    [Fact]
    public async Task TwoStreamsSharingABucket_MoveTheRateTogether_NotEach()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(Rate, time);
        var started = time.GetUtcNow();
        var streams = Task.WhenAll(MoveAsync(bucket, 2 * Rate), MoveAsync(bucket, 2 * Rate));
        while (!streams.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(1);
        }

        await streams;
        var rate = 4.0 * Rate / (time.GetUtcNow() - started).TotalSeconds;
        Assert.InRange(rate, Rate * 0.9, Rate * 1.1);
    }

    [Fact]
    public async Task AnIdleBucket_SavesUpOneSecondAtMost()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(Rate, time);
        Assert.False(bucket.TakeAsync(Rate / 4, CancellationToken.None).IsCompleted); // it starts empty
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(bucket.TakeAsync(Rate - 1, CancellationToken.None).IsCompleted); // a second's worth, at once ...
        var next = bucket.TakeAsync(Rate / 4, CancellationToken.None);
        Assert.False(next.IsCompleted);                                            // ... and no more
        time.Advance(TimeSpan.FromMilliseconds(250));
        await next;
    }

    [Fact]
    public async Task ARateChangedWhileInUse_AppliesFromTheNextTake()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(Rate, time) { Rate = 2 * Rate };
        var take = bucket.TakeAsync(Rate, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(take.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await take;
    }

    private static async Task MoveAsync(TokenBucket bucket, int bytes)
    {
        for (var moved = 0; moved < bytes; moved += 16 * 1024)
        {
            await bucket.TakeAsync(16 * 1024, CancellationToken.None);
        }
    }
}

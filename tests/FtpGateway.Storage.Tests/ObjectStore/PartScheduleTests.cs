using FtpGateway.Storage.AzureBlob;
using FtpGateway.Storage.ObjectStore;
using FtpGateway.Storage.S3;

namespace FtpGateway.Storage.Tests.ObjectStore;

/// <summary>
/// The part sizes of an upload of unknown length, checked without uploading terabytes: every part within the
/// store's limits, parts that only grow, and a part count that holds the largest upload the store takes.
/// </summary>
public sealed class PartScheduleTests
{
    private const long MiB = 1024 * 1024;

    public static TheoryData<string, long, long, int, long> Stores => new()
    {
        // store, first part (configured), largest part, part count, what must fit
        { "S3, default 8 MiB", 8 * MiB, 5L << 30, 10_000, 5L << 40 },
        { "S3, smallest 5 MiB", 5 * MiB, 5L << 30, 10_000, 5L << 40 },
        { "S3, largest 5 GiB", 5L << 30, 5L << 30, 10_000, 5L << 40 },
        { "Azure, default 8 MiB", 8 * MiB, 4000 * MiB, 50_000, 100L << 40 },
        { "Azure, smallest 1 MiB", 1 * MiB, 4000 * MiB, 50_000, 100L << 40 },
    };

    [Theory]
    [MemberData(nameof(Stores))]
    public void PartsGrowOnlyAsFastAsNeeded_AndHoldTheLargestUpload(string store, long first, long largest, int count, long capacity)
    {
        var schedule = new PartSchedule(first, largest, count, capacity);
        Assert.True(schedule.Capacity >= capacity, store);
        Assert.Equal(first, schedule.SizeOf(1));
        Assert.Equal(first, schedule.SizeOf(count / 10)); // the first tenth: memory flat in the upload's size
        var previous = first;
        long total = 0;
        for (var n = 1; n <= count; n++)
        {
            var size = schedule.SizeOf(n);
            Assert.InRange(size, previous, largest);
            Assert.Equal(0, (size - first) % MiB);
            previous = size;
            total += size;
        }

        Assert.Equal(schedule.Capacity, total);
    }

    [Fact]
    public void S3_TheDefaultSchedule_ReachesFiveTebibytes_AndGrowsGently()
    {
        var schedule = S3Storage.Schedule(8 * MiB);
        Assert.True(schedule.Capacity >= 5L << 40);
        Assert.Equal(10_000, schedule.MaxParts);
        Assert.Equal(8 * MiB, PartAt(schedule, 1L << 30));      // the part being written once 1 GiB has gone
        Assert.Equal(8 * MiB, schedule.SizeOf(1_000));          // the first 1,000 parts (7.8 GiB): memory flat
        Assert.True(schedule.SizeOf(1_100) > 8 * MiB);         // then they grow
        Assert.True(PartAt(schedule, 10L << 30) <= 26 * MiB);  // ... 10 GiB
        Assert.True(PartAt(schedule, 1L << 40) <= 520 * MiB);  // ... 1 TiB
        Assert.True(schedule.SizeOf(10_000) <= 1160 * MiB);    // the last part of a 5 TiB upload
    }

    [Fact]
    public void Azure_TheDefaultSchedule_Reaches100Tebibytes()
    {
        var schedule = AzureBlobStorage.Schedule(8 * MiB);
        Assert.True(schedule.Capacity >= 100L << 40);
        Assert.Equal(50_000, schedule.MaxParts);
        Assert.Equal(8 * MiB, schedule.SizeOf(5_000));          // the first 5,000 blocks (39 GiB): memory flat
        Assert.True(schedule.SizeOf(5_100) > 8 * MiB);
        Assert.True(PartAt(schedule, 100L << 30) <= 116 * MiB);
        Assert.True(PartAt(schedule, 1L << 40) <= 470 * MiB);
    }

    [Fact]
    public void AnUploadTheStoreCannotHold_CannotBeScheduled() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PartSchedule(8 * MiB, 5L << 30, 10_000, 60L << 40));

    /// <summary>The size of the part an upload is writing once <paramref name="uploaded"/> bytes have gone.</summary>
    private static long PartAt(PartSchedule schedule, long uploaded)
    {
        long total = 0;
        for (var n = 1; n <= schedule.MaxParts; n++)
        {
            total += schedule.SizeOf(n);
            if (total >= uploaded)
            {
                return schedule.SizeOf(n);
            }
        }

        return schedule.SizeOf(schedule.MaxParts);
    }
}

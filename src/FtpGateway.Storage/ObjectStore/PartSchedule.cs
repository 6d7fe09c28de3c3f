namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// How large each part (S3) or block (Azure) of an upload is. FTP never says how long a file is, and a store
/// allows only so many parts (S3 10,000, Azure 50,000): with a fixed part size of 8 MiB an upload would stop at
/// 78 GiB on S3. So parts grow as the upload grows: the first tenth of the store's part count stays at the
/// configured size, and from there parts grow linearly, just steeply enough that the part count holds
/// <c>largestObject</c>; each size is a whole number of MiB, at most the store's largest part. Memory grows with
/// the part size (see <see cref="ObjectUpload"/>), so it stays flat in the file's size up to a tenth of the parts
/// (7.8 GiB on S3 with the default 8 MiB, 39 GiB on Azure) and only larger uploads hold more.
/// </summary>
public sealed class PartSchedule
{
    private const long MiB = 1024 * 1024;

    private readonly long _first;
    private readonly long _largestPart;
    private readonly double _growthMiB;
    private readonly int _flatParts;

    /// <param name="firstPartSize">the configured part size: every upload's first part.</param>
    /// <param name="largestPart">the store's largest part (S3 5 GiB, Azure 4,000 MiB).</param>
    /// <param name="maxParts">the store's part count per object.</param>
    /// <param name="largestObject">the size <paramref name="maxParts"/> parts must hold.</param>
    public PartSchedule(long firstPartSize, long largestPart, int maxParts, long largestObject)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstPartSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(largestPart, firstPartSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxParts, 1);
        (_first, _largestPart, MaxParts, _flatParts) = (firstPartSize, largestPart, maxParts, Math.Max(1, maxParts / 10));
        // The gentlest growth (MiB per part) whose parts hold the largest object: found by bisection, as the sizes
        // are rounded to whole MiB and capped.
        double low = 0, high = largestPart / (double)MiB;
        if (CapacityWith(high) < largestObject)
        {
            throw new ArgumentOutOfRangeException(nameof(largestObject), $"parts growing from {firstPartSize} bytes cannot hold {largestObject} bytes");
        }

        if (CapacityWith(0) >= largestObject)
        {
            _growthMiB = 0;
            return;
        }

        for (var i = 0; i < 60; i++)
        {
            var middle = (low + high) / 2;
            if (CapacityWith(middle) >= largestObject)
            {
                high = middle;
            }
            else
            {
                low = middle;
            }
        }

        _growthMiB = high;
    }

    public int MaxParts { get; }

    /// <summary>The bytes all <see cref="MaxParts"/> parts hold: the largest upload the schedule allows.</summary>
    public long Capacity => CapacityWith(_growthMiB);

    /// <summary>The size of part <paramref name="number"/> (1-based).</summary>
    public long SizeOf(int number) => SizeWith(_growthMiB, number);

    private long SizeWith(double growthMiB, int number) =>
        Math.Min(_largestPart, _first + (MiB * (long)Math.Floor(Math.Max(0, number - _flatParts) * growthMiB)));

    private long CapacityWith(double growthMiB)
    {
        long total = 0;
        for (var n = 1; n <= MaxParts; n++)
        {
            total += SizeWith(growthMiB, n);
        }

        return total;
    }
}

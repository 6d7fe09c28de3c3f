using FtpGateway.Storage.ObjectStore;

namespace FtpGateway.Storage.S3;

/// <summary>
/// The MFMT times of object versions this gateway has looked at, so that each version costs one HEAD however
/// often it is listed. Keyed by key, ETag and S3's LastModified together: any change to an object, content or
/// metadata, gives it a new LastModified, so what is remembered can never be stale, only forgotten. Bounded:
/// two generations of at most <see cref="Generation"/> versions each; the older is dropped when the newer fills.
/// </summary>
internal sealed class S3StoredTimes
{
    private const int Generation = 25_000;

    private readonly Lock _lock = new();
    private Dictionary<(string Key, string? ETag, DateTimeOffset? LastModified), DateTimeOffset?> _current = [];
    private Dictionary<(string Key, string? ETag, DateTimeOffset? LastModified), DateTimeOffset?> _previous = [];

    /// <summary>True when the stored time (or the absence of one) of this listed version is known.</summary>
    public bool TryGet(ObjectInfo listed, out DateTimeOffset? storedTime)
    {
        var version = (listed.Key, listed.ETag, listed.LastModified);
        lock (_lock)
        {
            if (_current.TryGetValue(version, out storedTime))
            {
                return true;
            }

            if (_previous.Remove(version, out storedTime))
            {
                Add(version, storedTime);
                return true;
            }

            return false;
        }
    }

    /// <summary>
    /// What a HEAD found for <paramref name="listed"/>, if the HEAD saw that same version (same ETag and the same
    /// LastModified: to the second, as a HEAD carries it, where a listing has milliseconds).
    /// </summary>
    public void Remember(ObjectInfo listed, ObjectInfo head)
    {
        if (head.ETag != listed.ETag || Seconds(head.LastModified) != Seconds(listed.LastModified))
        {
            return;
        }

        lock (_lock)
        {
            Add((listed.Key, listed.ETag, listed.LastModified), head.StoredTime);
        }
    }

    private static long? Seconds(DateTimeOffset? time) => time?.ToUnixTimeSeconds();

    private void Add((string, string?, DateTimeOffset?) version, DateTimeOffset? storedTime)
    {
        if (_current.Count >= Generation)
        {
            (_previous, _current) = (_current, []);
        }

        _current[version] = storedTime;
    }
}

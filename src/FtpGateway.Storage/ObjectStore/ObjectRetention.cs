using System.Globalization;

namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// Write-once retention (S3 Object Lock) as FTP sees it. In a versioned, locked bucket a delete or an overwrite
/// does not fail: it hides the retained version behind a delete marker or a newer version. So where the store
/// retains its writes (<see cref="IObjectStore.Retains"/>), every change first looks at the object, and one whose
/// retention has not ended is refused (550 with the date) instead of disappearing from the client's view.
/// </summary>
internal sealed class ObjectRetention(IObjectStore store, TimeProvider time)
{
    /// <summary>Whether changes must look at retention (an extra HEAD before an overwrite).</summary>
    public bool Applies => store.Retains;

    /// <summary>Refuses a change to <paramref name="existing"/> while it is retained.</summary>
    public void Require(ObjectInfo? existing, StoragePath path, string change)
    {
        if (existing?.RetainedUntil is { } until && until > time.GetUtcNow())
        {
            throw new StorageException(
                StorageErrorKind.Retained,
                string.Create(CultureInfo.InvariantCulture, $"'{path}' is retained until {until:yyyy-MM-dd HH:mm:ss} UTC (Object Lock) and cannot be {change}"));
        }
    }

    /// <summary>Refuses a change to any of <paramref name="objects"/> (from a listing, which does not show retention) while one is retained.</summary>
    public async Task RequireNoneAsync(IEnumerable<ObjectInfo> objects, StoragePath path, string change, CancellationToken cancellationToken)
    {
        if (!Applies)
        {
            return;
        }

        await Parallel.ForEachAsync(objects, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (o, ct) =>
            Require(await store.HeadAsync(o.Key, ct), path, change));
    }
}

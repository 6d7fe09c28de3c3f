namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// The versions this provider has lately stored in one request, by key, each kept until the MFMT that follows it,
/// a newer upload, or a delete or rename of that file: lftp's mirror, WinSCP and FileZilla stamp every upload right
/// after its 226, and that MFMT then needs no HEAD. Only stores whose condition on the ETag refuses a version changed
/// since give one (<see cref="IObjectStore.PutAsync"/>), so one left stale by another client (or a directory rename)
/// costs a refused request and a HEAD, never a wrong stamp. Bounded; a forgotten version costs a HEAD.
/// </summary>
internal sealed class RecentUploads
{
    private const int Capacity = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ObjectInfo> _versions = new(StringComparer.Ordinal);

    /// <summary>What a write to <paramref name="key"/> stored: the version, or null when not known (a multipart write).</summary>
    public void Stored(string key, ObjectInfo? version)
    {
        lock (_lock)
        {
            if (version is null)
            {
                _versions.Remove(key);
                return;
            }

            if (_versions.Count >= Capacity && !_versions.ContainsKey(key))
            {
                _versions.Clear();
            }

            _versions[key] = version;
        }
    }

    /// <summary>The object under <paramref name="key"/> was deleted, renamed or renamed onto: a stamp of the version remembered would only be refused.</summary>
    public void Forget(string key) => Stored(key, null);

    /// <summary>The version stored under <paramref name="key"/>, if remembered; forgotten as it is taken (a stamp makes a new one).</summary>
    public ObjectInfo? Take(string key)
    {
        lock (_lock)
        {
            return _versions.Remove(key, out var version) ? version : null;
        }
    }
}

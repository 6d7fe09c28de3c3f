namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// What this gateway has lately seen of an object store's directories, so that an upload into a directory it
/// created, listed or recently checked costs one request (the write) instead of three: the checks that the
/// directory exists and that the name is not a directory are answered from what was seen. Learnt from the
/// gateway's own MKD, from complete client listings, and from the one listing page an upload's check reads
/// (which covers the names that follow the uploaded one: a camera's next files). Everything expires after the
/// configured lifetime; the gateway's own MKD, RMD, DELE and renames update it at once. Changes made meanwhile by
/// another replica or another tool are seen only once it expired: an upload may then re-create a directory that
/// was just removed elsewhere, or land beside a directory of the same name created elsewhere. Listings, reads and
/// every other command never use it.
/// </summary>
internal sealed class DirectoryKnowledge(TimeProvider time, TimeSpan lifetime)
{
    private const int MaxDirectories = 10_000;
    private const int MaxRangesPerDirectory = 16;

    private readonly Dictionary<string, Known> _directories = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public bool Enabled => lifetime > TimeSpan.Zero;

    /// <summary>
    /// What is known of the directory holding <paramref name="file"/> and of the file's name there: whether the
    /// directory exists (false: not known), and whether the name is a directory (null: not known).
    /// <paramref name="keys"/> are the keys, relative to the directory, under which the name would be a directory
    /// (its marker, and its prefix), in the store's order.
    /// </summary>
    public (bool DirectoryExists, bool? IsDirectory) Query(StoragePath file, (string Low, string High) keys)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (!Enabled || !_directories.TryGetValue(file.Parent.Value, out var known))
            {
                return (file.Parent.IsRoot, null);
            }

            var exists = file.Parent.IsRoot || known.ExistsUntil > now;
            if (known.Subdirectories.TryGetValue(file.Name, out var until) && until > now)
            {
                return (exists, true);
            }

            return (exists, known.Ranges.Any(r => r.Until > now && r.Covers(keys.Low) && r.Covers(keys.High)) ? false : null);
        }
    }

    /// <summary>A number that changes whenever the gateway itself changes what <paramref name="directory"/> holds.</summary>
    public long Version(StoragePath directory)
    {
        lock (_lock)
        {
            return _directories.TryGetValue(directory.Value, out var known) ? known.Version : 0;
        }
    }

    /// <summary>
    /// A listing of <paramref name="directory"/> that began at <paramref name="from"/> (null: the beginning) and
    /// read through <paramref name="through"/> (null: the end) saw these subdirectories there. Ignored when the
    /// gateway changed the directory meanwhile (<paramref name="version"/> is stale).
    /// </summary>
    public void Saw(StoragePath directory, long version, bool exists, KeyBound? from, string? through, IEnumerable<string> subdirectories)
    {
        if (!Enabled)
        {
            return;
        }

        var until = time.GetTimestamp() + (long)(lifetime.TotalSeconds * time.TimestampFrequency);
        lock (_lock)
        {
            var known = Get(directory);
            if (known.Version != version)
            {
                return;
            }

            if (exists)
            {
                known.ExistsUntil = until;
            }

            var range = new KnownRange(from, through, until);
            known.Ranges.RemoveAll(r => r.Until <= time.GetTimestamp());
            known.Ranges.Add(range);
            if (known.Ranges.Count > MaxRangesPerDirectory)
            {
                known.Ranges.RemoveAt(0);
            }

            foreach (var name in subdirectories)
            {
                known.Subdirectories[name] = until;
            }
        }
    }

    /// <summary>The directory exists (a check found it).</summary>
    public void Exists(StoragePath directory)
    {
        if (!Enabled)
        {
            return;
        }

        lock (_lock)
        {
            Get(directory).ExistsUntil = Until();
        }
    }

    /// <summary>The gateway created <paramref name="directory"/> (MKD): it exists and holds nothing.</summary>
    public void Created(StoragePath directory)
    {
        if (!Enabled)
        {
            return;
        }

        lock (_lock)
        {
            Changed(directory.Parent).Subdirectories[directory.Name] = Until();
            var known = Changed(directory);
            known.ExistsUntil = Until();
            known.Ranges.Clear();
            known.Ranges.Add(new KnownRange(null, null, Until()));
            known.Subdirectories.Clear();
        }
    }

    /// <summary>The gateway removed or renamed <paramref name="directory"/>: nothing is known of it or below it.</summary>
    public void Removed(StoragePath directory)
    {
        lock (_lock)
        {
            Changed(directory.Parent).Subdirectories.Remove(directory.Name);
            foreach (var below in _directories.Keys.Where(k => directory.Contains(StoragePath.Parse(k))).ToList())
            {
                _directories[below] = new Known { Version = _directories[below].Version + 1 };
            }
        }
    }

    /// <summary>The gateway renamed the directory <paramref name="source"/> to <paramref name="target"/>.</summary>
    public void Moved(StoragePath source, StoragePath target)
    {
        Removed(source);
        Removed(target);
        if (!Enabled)
        {
            return;
        }

        lock (_lock)
        {
            Changed(target.Parent).Subdirectories[target.Name] = Until();
        }
    }

    /// <summary>The gateway deleted a file of <paramref name="directory"/>: it may have been the last thing that made it exist.</summary>
    public void MayBeGone(StoragePath directory)
    {
        lock (_lock)
        {
            Changed(directory).ExistsUntil = 0;
        }
    }

    private long Until() => time.GetTimestamp() + (long)(lifetime.TotalSeconds * time.TimestampFrequency);

    private Known Changed(StoragePath directory)
    {
        var known = Get(directory);
        known.Version++;
        return known;
    }

    private Known Get(StoragePath directory)
    {
        if (_directories.TryGetValue(directory.Value, out var known))
        {
            return known;
        }

        if (_directories.Count >= MaxDirectories)
        {
            var now = time.GetTimestamp();
            foreach (var stale in _directories.Where(d => d.Value.ExistsUntil <= now && d.Value.Ranges.All(r => r.Until <= now)).Select(d => d.Key).ToList())
            {
                _directories.Remove(stale);
            }

            if (_directories.Count >= MaxDirectories)
            {
                _directories.Clear(); // forgetting is always safe: the checks are made again
            }
        }

        return _directories[directory.Value] = new Known();
    }

    private sealed class Known
    {
        public long ExistsUntil;
        public long Version;
        public List<KnownRange> Ranges { get; } = [];
        public Dictionary<string, long> Subdirectories { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Keys (relative to the directory) a listing read, all of whose subdirectories were noted.</summary>
    private sealed record KnownRange(KeyBound? From, string? Through, long Until)
    {
        public bool Covers(string key) =>
            (From is not { } from || (from.Inclusive ? KeyOrder.Compare(key, from.Key) >= 0 : KeyOrder.Compare(key, from.Key) > 0))
            && (Through is null || KeyOrder.Compare(key, Through) <= 0);
    }
}

/// <summary>Where a listing began: at a key (inclusive, as Azure's startFrom) or after it (S3's StartAfter).</summary>
internal readonly record struct KeyBound(string Key, bool Inclusive);

/// <summary>The order object stores list keys in: by UTF-8 bytes, which is by Unicode code point.</summary>
internal static class KeyOrder
{
    public static IComparer<string> Comparer { get; } = Comparer<string>.Create(Compare);

    public static int Compare(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            System.Text.Rune.DecodeFromUtf16(a.AsSpan(i), out var x, out var nx);
            System.Text.Rune.DecodeFromUtf16(b.AsSpan(j), out var y, out var ny);
            if (x != y)
            {
                return x.Value.CompareTo(y.Value);
            }

            i += nx;
            j += ny;
        }

        return (a.Length - i).CompareTo(b.Length - j);
    }
}

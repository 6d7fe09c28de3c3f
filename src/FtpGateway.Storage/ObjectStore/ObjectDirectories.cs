namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// Directories on an object store, which has none: a directory exists when its marker or any object under its
/// prefix does. The checks an operation needs (does the parent exist? is this name a directory?), answered where
/// possible from what the gateway saw lately (<see cref="Knowledge"/>), and renames, which move whole prefixes.
/// </summary>
internal sealed class ObjectDirectories(IObjectStore store, ObjectKeys keys, ObjectStoreSettings settings, DirectoryKnowledge knowledge, ObjectRetention retention)
{
    /// <summary>Keys one look at a directory lists after an upload's name: the names that follow it (a camera's next files).</summary>
    private const int SurveyPageSize = 1000;

    public DirectoryKnowledge Knowledge => knowledge;

    /// <summary>What is at <paramref name="path"/>: a file, a directory (its marker, or objects under its prefix), or nothing.</summary>
    public async Task<StorageEntry?> EntryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot)
        {
            return new StorageEntry(path, true, 0, null);
        }

        if (!keys.Holds(keys.Key(path)))
        {
            return null; // nothing the store holds can have this name (asking would be a client's error answered as a failure)
        }

        var head = await store.HeadAsync(keys.Key(path), cancellationToken);
        if (head is not null)
        {
            return new StorageEntry(path, head.IsDirectoryMarker, head.IsDirectoryMarker ? 0 : head.Size, head.Modified);
        }

        if (!keys.Holds(keys.DirectoryPrefix(path)))
        {
            return null; // a key at the limit can be a file, not a directory with something under it
        }

        var first = await FirstUnderAsync(keys.DirectoryPrefix(path), cancellationToken);
        return first is null ? null : new StorageEntry(path, true, 0, first.Key == keys.MarkerKey(path) ? first.Modified : null);
    }

    /// <summary>The first objects under a prefix (one small listing request).</summary>
    public async Task<List<ObjectInfo>> FirstUnderAsync(string prefix, int count, CancellationToken cancellationToken)
    {
        await foreach (var page in store.ListPagesAsync(prefix, delimited: false, count, null, cancellationToken))
        {
            return [.. page.Objects.Take(count)];
        }

        return [];
    }

    public async Task<ObjectInfo?> FirstUnderAsync(string prefix, CancellationToken cancellationToken) =>
        (await FirstUnderAsync(prefix, 1, cancellationToken)).FirstOrDefault();

    /// <summary>A directory exists when its marker or any object under its prefix does.</summary>
    public async Task<bool> ExistsAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot || await FirstUnderAsync(keys.DirectoryPrefix(path), cancellationToken) is not null)
        {
            knowledge.Exists(path);
            return true;
        }

        var marker = keys.MarkerKey(path);
        var found = !marker.StartsWith(keys.DirectoryPrefix(path), StringComparison.Ordinal)
            && await store.HeadAsync(marker, cancellationToken) is { IsDirectoryMarker: true };
        if (found)
        {
            knowledge.Exists(path);
        }

        return found;
    }

    public async Task RequireParentAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (!knowledge.Query(path, TargetKeys(path)).DirectoryExists && !await ExistsAsync(path.Parent, cancellationToken))
        {
            throw new StorageException(StorageErrorKind.NotFound, $"The directory of '{path}' does not exist");
        }
    }

    /// <summary>
    /// Refuses an upload to <paramref name="path"/> when its directory does not exist or the name is a directory.
    /// What the gateway saw lately answers both at no cost; otherwise one page of the directory, listed from the
    /// name on, answers whether the name is a directory (and notes the names that follow), and shows that the
    /// directory exists when it holds anything from there on; a check of the directory runs beside it when needed.
    /// </summary>
    public async Task CheckUploadTargetAsync(StoragePath path, CancellationToken cancellationToken)
    {
        var targetKeys = TargetKeys(path);
        var (directoryExists, isDirectory) = knowledge.Query(path, targetKeys);
        if (directoryExists && isDirectory == false)
        {
            return;
        }

        var directory = path.Parent;
        var version = knowledge.Version(directory);
        var parent = directoryExists ? Task.FromResult(true) : ExistsAsync(directory, cancellationToken);
        var survey = SurveyAsync(directory, path.Name, version, targetKeys, cancellationToken);
        await Task.WhenAll(parent, survey);
        var (seenAnything, seenAsDirectory) = survey.Result;
        if (seenAsDirectory ?? await ExistsAsync(path, cancellationToken))
        {
            throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
        }

        if (!parent.Result && !seenAnything)
        {
            throw new StorageException(StorageErrorKind.NotFound, $"The directory of '{path}' does not exist");
        }

        knowledge.Exists(directory);
    }

    /// <summary>
    /// One page of <paramref name="directory"/> from <paramref name="name"/> on: whether it held anything there,
    /// and whether the name is a directory (null when the page does not reach it: a store that lists from the
    /// beginning, in a large directory).
    /// </summary>
    private async Task<(bool Anything, bool? IsDirectory)> SurveyAsync(StoragePath directory, string name, long version, (string Low, string High) targetKeys, CancellationToken cancellationToken)
    {
        var prefix = keys.DirectoryPrefix(directory);
        ObjectListPage? page = null;
        await foreach (var first in store.ListPagesAsync(prefix, delimited: true, SurveyPageSize, prefix + name, cancellationToken))
        {
            page = first;
            break;
        }

        if (page is null)
        {
            return (false, null);
        }

        var names = page.Objects.Select(o => o.Key[prefix.Length..]).Concat(page.Prefixes.Select(p => p[prefix.Length..])).ToList();
        var subdirectories = page.Prefixes.Select(p => p[prefix.Length..].TrimEnd('/'))
            .Concat(page.Objects.Where(o => o.IsDirectoryMarker).Select(o => o.Key[prefix.Length..].TrimEnd('/')))
            .Where(n => n.Length > 0)
            .ToHashSet(StringComparer.Ordinal);

        // A store that ignored where to start listed from the beginning: what the page covers starts there.
        KeyBound? from = names.Any(n => KeyOrder.Compare(n, name) < 0) ? null : new KeyBound(name, store.ListingStartIsInclusive);
        var through = page.Truncated ? names.Max(KeyOrder.Comparer) : null;
        knowledge.Saw(directory, version, exists: names.Count > 0, from, through, subdirectories);
        var reached = through is null || KeyOrder.Compare(targetKeys.High, through) <= 0;
        var covered = reached && (from is null || (from.Value.Inclusive ? KeyOrder.Compare(targetKeys.Low, name) >= 0 : KeyOrder.Compare(targetKeys.Low, name) > 0));
        return (names.Count > 0, subdirectories.Contains(name) ? true : covered ? false : null);
    }

    /// <summary>The keys, relative to the parent's prefix, under which the name of <paramref name="path"/> would be a directory, lowest first.</summary>
    private (string Low, string High) TargetKeys(StoragePath path)
    {
        var marker = keys.MarkerKey(path)[keys.DirectoryPrefix(path.Parent).Length..];
        var prefix = path.Name + "/";
        return KeyOrder.Compare(marker, prefix) <= 0 ? (marker, prefix) : (prefix, marker);
    }

    /// <summary>
    /// A file: copied server-side, then the original deleted (replacing a file at the target, as rename(2) does).
    /// A directory: every object under it, refused up front above MaxRenameObjects. Not atomic for readers.
    /// </summary>
    public async Task RenameAsync(StoragePath source, StoragePath target, CancellationToken cancellationToken)
    {
        if (source.IsRoot || target.IsRoot)
        {
            throw new StorageException(StorageErrorKind.AccessDenied, "The root cannot be renamed");
        }

        if (source == target)
        {
            return;
        }

        if (!keys.Holds(keys.Key(source)))
        {
            throw StorageException.NotFound(source);
        }

        keys.RequireStorable(target, keys.MarkerKey(target));

        await RequireParentAsync(target, cancellationToken);
        var file = await store.HeadAsync(keys.Key(source), cancellationToken);
        if (file is { IsDirectoryMarker: false })
        {
            if (await ExistsAsync(target, cancellationToken))
            {
                throw new StorageException(StorageErrorKind.IsADirectory, $"'{target}' is a directory");
            }

            // A retained file cannot leave its name, nor can another take the name of one.
            retention.Require(file, source, "renamed");
            if (retention.Applies)
            {
                retention.Require(await store.HeadAsync(keys.Key(target), cancellationToken), target, "replaced");
            }

            await store.CopyAsync(file, keys.Key(target), cancellationToken);
            await store.DeleteAsync(keys.Key(source), cancellationToken);
            knowledge.MayBeGone(source.Parent);
            return;
        }

        if (file is null && !await ExistsAsync(source, cancellationToken))
        {
            throw StorageException.NotFound(source);
        }

        if (source.Contains(target))
        {
            throw new StorageException(StorageErrorKind.InvalidName, $"Cannot move '{source}' into itself");
        }

        if (await store.CallAsync(target, () => EntryAsync(target, cancellationToken)) is not null)
        {
            throw new StorageException(StorageErrorKind.AlreadyExists, $"'{target}' exists");
        }

        await RenameDirectoryAsync(source, target, file, cancellationToken);
        knowledge.Moved(source, target);
    }

    private async Task RenameDirectoryAsync(StoragePath source, StoragePath target, ObjectInfo? marker, CancellationToken cancellationToken)
    {
        var (from, to) = (keys.DirectoryPrefix(source), keys.DirectoryPrefix(target));
        var moves = new List<(ObjectInfo Source, string Target)>();
        if (marker is not null)
        {
            moves.Add((marker, keys.MarkerKey(target))); // a marker outside the prefix (Azure) moves too
        }

        await foreach (var page in store.ListPagesAsync(from, delimited: false, null, null, cancellationToken))
        {
            moves.AddRange(page.Objects.Select(o => (o, to + o.Key[from.Length..])));
            if (moves.Count > settings.MaxRenameObjects)
            {
                throw new StorageException(StorageErrorKind.LimitExceeded, $"Renaming '{source}' would copy more than {settings.MaxRenameObjects} objects");
            }
        }

        if (moves.FirstOrDefault(m => !keys.Holds(m.Target)) is { Target: not null } tooLong)
        {
            keys.RequireStorable(target, tooLong.Target); // refused before anything is copied
        }

        await retention.RequireNoneAsync(moves.Select(m => m.Source), source, "renamed", cancellationToken);
        await Parallel.ForEachAsync(moves, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (m, ct) =>
            await store.CopyAsync(m.Source, m.Target, ct));
        await store.DeleteAllAsync([.. moves.Select(m => m.Source.Key)], cancellationToken);
    }
}

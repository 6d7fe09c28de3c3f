using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// A directory listing on an object store: one level of the prefix (delimiter "/"), streamed page by page. A
/// subdirectory can come as its marker and as a prefix; names FTP cannot carry and reserved names are left out.
/// A listing read to the end tells <see cref="DirectoryKnowledge"/> which subdirectories the directory has.
/// </summary>
internal static partial class ObjectListing
{
    public static async IAsyncEnumerable<StorageEntry> ListAsync(IObjectStore store, ObjectKeys keys, ObjectDirectories directories, ILogger logger, StoragePath directory, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = keys.DirectoryPrefix(directory);
        if (!keys.Holds(prefix))
        {
            throw StorageException.NotFound(directory);
        }

        var version = directories.Knowledge.Version(directory);
        var folders = new HashSet<string>(StringComparer.Ordinal); // a folder can come as its marker and as a prefix
        var anything = directory.IsRoot;
        await using var pages = store.ListPagesAsync(prefix, delimited: true, null, null, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (await store.CallAsync(directory, async () => await pages.MoveNextAsync()))
        {
            var page = pages.Current;
            if (!anything && page.Objects.Count == 0 && page.Prefixes.Count == 0)
            {
                continue;
            }

            anything = true;
            foreach (var name in page.Prefixes.Select(p => p[prefix.Length..].TrimEnd('/')))
            {
                if (Child(logger, directory, name) is { } child && folders.Add(name))
                {
                    yield return new StorageEntry(child, true, 0, null);
                }
            }

            var files = new List<ObjectInfo>();
            foreach (var item in page.Objects.Where(o => o.Key != prefix && !o.Key.EndsWith('/')))
            {
                var name = item.Key[prefix.Length..];
                if (Child(logger, directory, name) is not { } child)
                {
                    continue;
                }

                if (!item.IsDirectoryMarker)
                {
                    files.Add(item);
                }
                else if (folders.Add(name))
                {
                    yield return new StorageEntry(child, true, 0, item.Modified);
                }
            }

            foreach (var file in await store.CallAsync(directory, () => store.CompleteListingAsync(files, cancellationToken)))
            {
                yield return new StorageEntry(directory.Child(file.Key[prefix.Length..]), false, file.Size, file.Modified);
            }
        }

        if (!anything)
        {
            // Nothing under the prefix: an empty directory whose marker lies outside it (Azure), a file, or nothing.
            var self = await store.CallAsync(directory, () => store.HeadAsync(keys.Key(directory), cancellationToken));
            if (self is not { IsDirectoryMarker: true })
            {
                throw self is null ? StorageException.NotFound(directory) : new StorageException(StorageErrorKind.NotADirectory, $"'{directory}' is a file");
            }
        }

        directories.Knowledge.Saw(directory, version, exists: true, from: null, through: null, folders);
    }

    /// <summary>A listed name as a child path, or null when it is not listed (reserved, or not addressable: logged).</summary>
    internal static StoragePath? Child(ILogger logger, StoragePath directory, string name)
    {
        if (StorageNames.TryChild(directory, name, out var child, out var unaddressable))
        {
            return child;
        }

        if (unaddressable)
        {
            NameSkipped(logger, directory.Value, name.Length);
        }

        return null;
    }

    [LoggerMessage(410, LogLevel.Warning, "Listing {Directory} skipped a name FTP cannot carry (control characters, separators; {Length} characters)")]
    private static partial void NameSkipped(ILogger logger, string directory, int length);
}

using System.Runtime.CompilerServices;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// The embedded default provider: files on a local (or mounted) disk. Uploads are written to a hidden
/// temporary file beside the target and moved into place only when complete, so readers see the old file
/// until the new one is whole, and a failed upload leaves nothing behind. Symbolic links are followed only
/// while their target stays inside the root.
/// </summary>
public sealed class FileSystemStorageProvider : IStorageProvider
{
    private const string TempPrefix = ".ftpgw-";
    private const string TempSuffix = ".part";
    private const int CopyBufferSize = 256 * 1024;

    private readonly string _root;

    public FileSystemStorageProvider(FileSystemStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var full = Path.GetFullPath(options.Root);
        Directory.CreateDirectory(full);
        var info = new DirectoryInfo(full);
        _root = Path.TrimEndingDirectorySeparator(info.LinkTarget is null ? full : info.ResolveLinkTarget(true)!.FullName);
    }

    public string Name => "FileSystem";

    public StorageCapabilities Capabilities =>
        StorageCapabilities.Append | StorageCapabilities.ResumeUpload | StorageCapabilities.AtomicRename | StorageCapabilities.SetModificationTime;

    public IReadOnlyList<string> HashAlgorithms => Hashing.All;

    public ValueTask<StorageEntry?> GetEntryAsync(StoragePath path, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Stat(path, MapPath(path)));

    public async IAsyncEnumerable<StorageEntry> ListAsync(StoragePath directory, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var full = RequireDirectory(directory);
        IEnumerator<FileSystemInfo> items;
        try
        {
            items = new DirectoryInfo(full).EnumerateFileSystemInfos().GetEnumerator();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, directory);
        }

        using (items)
        {
            var count = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                StorageEntry? entry;
                try
                {
                    if (!items.MoveNext())
                    {
                        break;
                    }

                    entry = ToEntry(directory, items.Current);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw Translate(ex, directory);
                }

                if (entry is not null)
                {
                    yield return entry;
                }

                // Directory enumeration is synchronous; give the thread back now and then on huge directories.
                if (++count % 1024 == 0)
                {
                    await Task.Yield();
                }
            }
        }
    }

    public ValueTask<Stream> OpenReadAsync(StoragePath path, long offset, CancellationToken cancellationToken)
    {
        var full = MapPath(path);
        try
        {
            if (Directory.Exists(full))
            {
                throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
            }

            var stream = new FileStream(full, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0,
            });
            if (offset > stream.Length)
            {
                stream.Dispose();
                throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {offset} is beyond the end of '{path}'");
            }

            stream.Position = offset;
            return ValueTask.FromResult<Stream>(stream);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, path);
        }
    }

    public async ValueTask<StorageEntry> UploadAsync(UploadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path;
        if (path.IsRoot)
        {
            throw new StorageException(StorageErrorKind.IsADirectory, "Cannot upload to the root");
        }

        var full = MapPath(path);
        var parent = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(parent))
        {
            throw new StorageException(
                File.Exists(parent) ? StorageErrorKind.NotADirectory : StorageErrorKind.NotFound,
                $"The directory of '{path}' does not exist");
        }

        if (Directory.Exists(full))
        {
            throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
        }

        var keep = UploadRules.KeptBytes(request, File.Exists(full) ? new FileInfo(full).Length : null);

        var temp = Path.Join(parent, TempPrefix + Guid.NewGuid().ToString("N") + TempSuffix);
        var committed = false;
        try
        {
            await WriteTemporaryAsync(temp, full, keep, request, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temp, full, overwrite: request.Mode != UploadMode.CreateNew);
            committed = true;
            return Stat(path, full) ?? throw StorageException.NotFound(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, path);
        }
        finally
        {
            if (!committed)
            {
                TryDelete(temp);
            }
        }
    }

    /// <summary>The new version in full: the kept bytes of the existing file, the client's data; then the last check.</summary>
    private static async Task WriteTemporaryAsync(string temp, string full, long keep, UploadRequest request, CancellationToken cancellationToken)
    {
        await using var target = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
            BufferSize = 0,
        });
        if (keep > 0)
        {
            await using var existing = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.Asynchronous);
            await CopyAsync(existing, target, keep, cancellationToken);
        }

        await CopyAsync(request.Source, target, long.MaxValue, cancellationToken);
        if (request.BeforeCommit is not null)
        {
            await request.BeforeCommit(cancellationToken);
        }
    }

    public ValueTask DeleteFileAsync(StoragePath path, CancellationToken cancellationToken)
    {
        var full = MapPath(path);
        if (Directory.Exists(full))
        {
            throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
        }

        if (!File.Exists(full))
        {
            throw StorageException.NotFound(path);
        }

        try
        {
            File.Delete(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, path);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask CreateDirectoryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        var full = MapPath(path);
        if (File.Exists(full) || Directory.Exists(full))
        {
            throw new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists");
        }

        RequireDirectory(path.Parent);
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, path);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteDirectoryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot)
        {
            throw new StorageException(StorageErrorKind.AccessDenied, "The root cannot be removed");
        }

        var full = RequireDirectory(path);
        try
        {
            Directory.Delete(full, recursive: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, path);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask RenameAsync(StoragePath source, StoragePath target, CancellationToken cancellationToken)
    {
        if (source.IsRoot || target.IsRoot)
        {
            throw new StorageException(StorageErrorKind.AccessDenied, "The root cannot be renamed");
        }

        if (source == target)
        {
            return ValueTask.CompletedTask;
        }

        var from = MapPath(source);
        var to = MapPath(target);
        RequireDirectory(target.Parent);
        try
        {
            if (File.Exists(from))
            {
                if (Directory.Exists(to))
                {
                    throw new StorageException(StorageErrorKind.IsADirectory, $"'{target}' is a directory");
                }

                File.Move(from, to, overwrite: true);
            }
            else if (Directory.Exists(from))
            {
                if (source.Contains(target))
                {
                    throw new StorageException(StorageErrorKind.InvalidName, $"Cannot move '{source}' into itself");
                }

                if (File.Exists(to) || Directory.Exists(to))
                {
                    throw new StorageException(StorageErrorKind.AlreadyExists, $"'{target}' exists");
                }

                Directory.Move(from, to);
            }
            else
            {
                throw StorageException.NotFound(source);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, source);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask SetModificationTimeAsync(StoragePath path, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var full = MapPath(path);
        try
        {
            if (File.Exists(full))
            {
                File.SetLastWriteTimeUtc(full, time.UtcDateTime);
            }
            else if (Directory.Exists(full))
            {
                Directory.SetLastWriteTimeUtc(full, time.UtcDateTime);
            }
            else
            {
                throw StorageException.NotFound(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, path);
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask<byte[]> GetHashAsync(StoragePath path, string algorithm, CancellationToken cancellationToken)
    {
        await using var stream = await OpenReadAsync(path, 0, cancellationToken);
        return await Hashing.ComputeAsync(stream, algorithm, cancellationToken);
    }

    public ValueTask ProbeAsync(CancellationToken cancellationToken) =>
        Directory.Exists(_root)
            ? ValueTask.CompletedTask
            : throw new StorageException(StorageErrorKind.Unavailable, $"The storage root '{_root}' is missing");

    /// <summary>
    /// The one place a storage path becomes a disk path. Temporary upload names are not addressable, and a
    /// symbolic link on the way may only lead to somewhere inside the root.
    /// </summary>
    private string MapPath(StoragePath path)
    {
        var full = _root;
        foreach (var segment in path.Segments)
        {
            if (IsTempName(segment))
            {
                throw new StorageException(StorageErrorKind.InvalidName, $"'{segment}' is a reserved name");
            }

            full = Path.Join(full, segment);
            var info = new FileInfo(full);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null || !IsInsideRoot(target.FullName))
                {
                    throw new StorageException(StorageErrorKind.AccessDenied, $"'{path}' leads outside the storage root");
                }
            }
        }

        return full;
    }

    private bool IsInsideRoot(string fullPath)
    {
        var normal = Path.TrimEndingDirectorySeparator(Path.GetFullPath(fullPath));
        return normal == _root || normal.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static bool IsTempName(string name) =>
        name.StartsWith(TempPrefix, StringComparison.Ordinal) && name.EndsWith(TempSuffix, StringComparison.Ordinal);

    private string RequireDirectory(StoragePath path)
    {
        var full = MapPath(path);
        if (Directory.Exists(full))
        {
            return full;
        }

        throw File.Exists(full)
            ? new StorageException(StorageErrorKind.NotADirectory, $"'{path}' is not a directory")
            : StorageException.NotFound(path);
    }

    private static StorageEntry? Stat(StoragePath path, string full)
    {
        var file = new FileInfo(full);
        if (file.Exists)
        {
            return new StorageEntry(path, false, file.Length, file.LastWriteTimeUtc);
        }

        var dir = new DirectoryInfo(full);
        return dir.Exists ? new StorageEntry(path, true, 0, dir.LastWriteTimeUtc) : null;
    }

    private StorageEntry? ToEntry(StoragePath directory, FileSystemInfo info)
    {
        if (IsTempName(info.Name))
        {
            return null;
        }

        var path = directory.Child(info.Name);
        if ((info.Attributes & FileAttributes.ReparsePoint) != 0)
        {
            // A link is shown as what it points to, and hidden if that is outside the root or missing.
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            if (target is null || !target.Exists || !IsInsideRoot(target.FullName))
            {
                return null;
            }

            info = target;
        }

        return info is FileInfo file
            ? new StorageEntry(path, false, file.Length, file.LastWriteTimeUtc)
            : new StorageEntry(path, true, 0, info.LastWriteTimeUtc);
    }

    private static async Task CopyAsync(Stream source, Stream target, long limit, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            while (limit > 0)
            {
                var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit)), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                limit -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary file is hidden from listings and never committed.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    // errno values on Linux; .NET surfaces the raw errno as HResult for I/O errors it does not map itself.
    private const int ENOTDIR = 20, EISDIR = 21, ENOSPC = 28, ENAMETOOLONG = 36, ENOTEMPTY = 39, EDQUOT = 122, EEXIST = 17, EROFS = 30;

    private static StorageException Translate(Exception ex, StoragePath path) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => new StorageException(StorageErrorKind.NotFound, $"'{path}' does not exist", ex),
        PathTooLongException => new StorageException(StorageErrorKind.InvalidName, $"'{path}' is too long", ex),
        UnauthorizedAccessException => new StorageException(StorageErrorKind.AccessDenied, $"Access to '{path}' denied", ex),
        IOException io => (io.HResult & 0xFFFF) switch
        {
            ENOSPC or EDQUOT => new StorageException(StorageErrorKind.InsufficientStorage, $"No space left writing '{path}'", ex),
            ENAMETOOLONG => new StorageException(StorageErrorKind.InvalidName, $"'{path}' is too long", ex),
            ENOTEMPTY => new StorageException(StorageErrorKind.DirectoryNotEmpty, $"'{path}' is not empty", ex),
            EEXIST => new StorageException(StorageErrorKind.AlreadyExists, $"'{path}' exists", ex),
            ENOTDIR => new StorageException(StorageErrorKind.NotADirectory, $"A part of '{path}' is not a directory", ex),
            EISDIR => new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory", ex),
            EROFS => new StorageException(StorageErrorKind.AccessDenied, $"The storage is read-only", ex),
            _ => new StorageException(StorageErrorKind.Unavailable, $"I/O error on '{path}': {io.Message}", ex),
        },
        _ => new StorageException(StorageErrorKind.Unavailable, $"Error on '{path}'", ex),
    };
}

using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// The embedded default provider: files on a local (or mounted) disk, on Linux. Every path is opened inside the
/// user's root and proven to be there before anything is done with it (<see cref="ConfinedTree"/>): a symbolic
/// link is followed only while it leads to somewhere inside that root, whatever links lie on the way, and one
/// swapped in after the check cannot redirect the operation. Uploads are written to an unnamed file, or where
/// the file system has none a hidden temporary (<see cref="UploadTemporaries"/>), and given their name only when
/// complete, so readers see the old file until the new one is whole; APPE writes in place under a per-file lock.
/// </summary>
public sealed class FileSystemStorageProvider : IStorageProvider, IDisposable
{
    private readonly Shared _shared;
    private readonly ConfinedTree _tree;
    private readonly DiskUploads _uploads;
    private readonly ITimer? _sweep;

    public FileSystemStorageProvider(FileSystemStorageOptions options, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Storage:Provider=FileSystem runs on Linux");
        }

        var full = Path.GetFullPath(options.Root);
        Directory.CreateDirectory(full);
        var root = ConfinedTree.RealPath(full) ?? throw new IOException($"The storage root '{full}' cannot be opened");
        time ??= TimeProvider.System;
        _shared = new Shared(root, new UploadTemporaries(root, options.UnnamedTemporaries), new AppendLocks(time), logger ?? NullLogger.Instance);
        _tree = new ConfinedTree(root, StoragePath.Root, root);
        _uploads = new DiskUploads(_tree, _shared.Temporaries, _shared.Locks);
        RemoveStaleTemporaries(time);
        _sweep = time.CreateTimer(_ => RemoveStaleTemporaries(time), null, UploadTemporaries.StaleAfter, UploadTemporaries.StaleAfter);
    }

    private FileSystemStorageProvider(Shared shared, ConfinedTree tree) =>
        (_shared, _tree, _uploads) = (shared, tree, new DiskUploads(tree, shared.Temporaries, shared.Locks));

    public string Name => "FileSystem";

    /// <summary>Whether uploads are unnamed files until they commit (<see cref="UploadTemporaries.Unnamed"/>).</summary>
    internal bool UnnamedUploads => _shared.Temporaries.Unnamed;

    public string? Locate(StoragePath path) => System.IO.Path.Join(_shared.Root, path.Value);

    public string Describe() => $"local disk {_shared.Root}";

    public StorageCapabilities Capabilities =>
        StorageCapabilities.Append | StorageCapabilities.ResumeUpload | StorageCapabilities.AtomicRename
        | StorageCapabilities.SetModificationTime | StorageCapabilities.UniqueIds;

    public IReadOnlyList<string> HashAlgorithms => Hashing.All;

    /// <summary>
    /// The same disk, confined to <paramref name="root"/> (a user's root, which must exist): every path is then
    /// proven to lie inside that root's real location, so a link into another user's area leads nowhere.
    /// </summary>
    public IStorageProvider ForRoot(StoragePath root)
    {
        if (root.IsRoot)
        {
            return this;
        }

        using var directory = _tree.OpenDirectory(root, out var errno) ?? throw FileSystemErrors.For(errno, root, "opening a user's root");
        return new FileSystemStorageProvider(_shared, _tree.Within(root, ConfinedTree.RealPath(directory) ?? throw StorageException.NotFound(root)));
    }

    // ---- Reading ------------------------------------------------------------------------------

    public ValueTask<StorageEntry?> GetEntryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        using var opened = _tree.Open(path, out var errno);
        if (opened is null)
        {
            return errno is Libc.EACCES or Libc.EPERM ? throw FileSystemErrors.For(errno, path, "stat") : ValueTask.FromResult<StorageEntry?>(null);
        }

        var stat = ConfinedTree.Stat(opened, path);
        return ValueTask.FromResult<StorageEntry?>(stat.Type is Libc.SIfDir or Libc.SIfReg ? Entry(path, stat) : null);
    }

    public async IAsyncEnumerable<StorageEntry> ListAsync(StoragePath directory, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var opened = _tree.OpenDirectory(directory, out var errno) ?? throw FileSystemErrors.For(errno, directory, "listing");
        using var readable = ConfinedTree.Reopen(opened, Libc.ORdOnly | Libc.ODirectory, directory);
        using var names = new DirectoryReader(readable);
        var count = 0;
        while (Next(names, directory, out var name))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (name is not null && ListedEntry(opened, directory, name, names) is { } entry)
            {
                yield return entry;
            }

            // Reading a directory is synchronous: give the thread back now and then on huge directories.
            if (++count % 1024 == 0)
            {
                await Task.Yield();
            }
        }
    }

    private static bool Next(DirectoryReader names, StoragePath directory, out string? name) => Next(names, directory, out name, out _);

    private static bool Next(DirectoryReader names, StoragePath directory, out string? name, out byte type)
    {
        try
        {
            return names.Next(out name, out type);
        }
        catch (IOException ex)
        {
            throw FileSystemErrors.For(ex, directory, "listing");
        }
    }

    /// <summary>
    /// One listed name as clients are to see it, or null: reserved names, names FTP cannot carry (control
    /// characters, separators, not UTF-8), links that lead outside the root or nowhere, special files, and entries
    /// that vanished or cannot be read meanwhile are skipped (the last two with a log line), so one bad entry never
    /// breaks a listing.
    /// </summary>
    private StorageEntry? ListedEntry(SafeFileHandle directory, StoragePath path, string name, DirectoryReader names)
    {
        if (!StorageNames.TryChild(path, name, out var child, out var unaddressable))
        {
            if (unaddressable)
            {
                FileSystemLog.EntrySkipped(_shared.Logger, path.Value, "a name FTP cannot carry (control characters or separators)");
            }

            return null;
        }

        if (names.StatCurrent(directory, Libc.AtSymlinkNoFollow, out var stat) != 0)
        {
            if (Libc.Errno != Libc.ENOENT)
            {
                FileSystemLog.EntrySkipped(_shared.Logger, child.Value, $"errno {Libc.Errno}");
            }

            return null;
        }

        if (stat.Type == Libc.SIfLnk)
        {
            using var target = _tree.Open(child, out var errno);
            if (target is null || Libc.Statx(target, string.Empty, Libc.AtEmptyPath, Libc.StatxBasicStats, out stat) != 0)
            {
                if (errno is Libc.ELOOP or Libc.EACCES)
                {
                    FileSystemLog.EntrySkipped(_shared.Logger, child.Value, errno == Libc.ELOOP ? "a symbolic link loop" : "permission denied");
                }

                return null;
            }
        }

        return stat.Type is Libc.SIfReg or Libc.SIfDir ? Entry(child, stat) : null; // FIFOs, devices, sockets are not files to FTP
    }

    public ValueTask<Stream> OpenReadAsync(StoragePath path, long offset, CancellationToken cancellationToken) =>
        ValueTask.FromResult(OpenRead(_tree, path, offset));

    /// <summary>The regular file at <paramref name="path"/>, open for reading at <paramref name="offset"/>.</summary>
    internal static Stream OpenRead(ConfinedTree tree, StoragePath path, long offset)
    {
        var (opened, stat) = tree.OpenFile(path, "reading");
        using (opened)
        {
            if (offset > (long)stat.Size)
            {
                throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {offset} is beyond the end of '{path}'");
            }

            var stream = new FileStream(ConfinedTree.Reopen(opened, Libc.ORdOnly, path), FileAccess.Read, bufferSize: 0);
            stream.Position = offset;
            return stream;
        }
    }

    // ---- Writing ------------------------------------------------------------------------------

    public ValueTask<StorageEntry> UploadAsync(UploadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _uploads.UploadAsync(request, cancellationToken);
    }

    public ValueTask CheckUploadTargetAsync(StoragePath path, CancellationToken cancellationToken)
    {
        DiskUploads.CheckTarget(_tree, path);
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteFileAsync(StoragePath path, CancellationToken cancellationToken)
    {
        using var parent = _tree.OpenParent(path);
        switch (_tree.Describe(parent, path)?.Type)
        {
            case null:
                throw StorageException.NotFound(path);
            case Libc.SIfDir:
                throw new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory");
        }

        return Libc.UnlinkAt(parent, path.Name, 0) == 0 ? ValueTask.CompletedTask : throw FileSystemErrors.For(Libc.Errno, path, "deleting");
    }

    public ValueTask CreateDirectoryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot)
        {
            throw new StorageException(StorageErrorKind.AlreadyExists, "The root exists");
        }

        using var parent = _tree.OpenParent(path);
        return Libc.MkdirAt(parent, path.Name, 0b111_101_101) == 0 ? ValueTask.CompletedTask : throw FileSystemErrors.For(Libc.Errno, path, "creating a directory");
    }

    public ValueTask DeleteDirectoryAsync(StoragePath path, CancellationToken cancellationToken)
    {
        if (path.IsRoot)
        {
            throw new StorageException(StorageErrorKind.AccessDenied, "The root cannot be removed");
        }

        using var parent = _tree.OpenParent(path);
        if (Libc.Statx(parent, path.Name, Libc.AtSymlinkNoFollow, Libc.StatxBasicStats, out var stat) != 0)
        {
            throw FileSystemErrors.For(Libc.Errno, path, "removing a directory");
        }

        if (stat.Type != Libc.SIfDir)
        {
            throw new StorageException(StorageErrorKind.NotADirectory, $"'{path}' is not a directory");
        }

        if (Libc.UnlinkAt(parent, path.Name, Libc.AtRemoveDir) == 0)
        {
            return ValueTask.CompletedTask;
        }

        var errno = Libc.Errno;
        return errno == Libc.ENOTEMPTY && RemoveTemporariesBeside(path) && Libc.UnlinkAt(parent, path.Name, Libc.AtRemoveDir) == 0
            ? ValueTask.CompletedTask
            : throw FileSystemErrors.For(errno, path, "removing a directory");
    }

    /// <summary>
    /// Upload temporaries beside their target (versions before 2026-12 wrote every upload so; now only targets on
    /// another mount do) are left behind by a crash, unlisted, keeping their directory from being removed. When
    /// they are all that is left, they go.
    /// </summary>
    private bool RemoveTemporariesBeside(StoragePath directory)
    {
        using var opened = _tree.OpenDirectory(directory, out _);
        if (opened is null)
        {
            return false;
        }

        var leftovers = new List<string>();
        using (var readable = ConfinedTree.Reopen(opened, Libc.ORdOnly | Libc.ODirectory, directory))
        using (var names = new DirectoryReader(readable))
        {
            while (Next(names, directory, out var name, out var type))
            {
                if (name is null)
                {
                    continue;
                }

                if (!StorageNames.IsTemporaryBesideTarget(name) || !IsRegularFile(opened, name, type))
                {
                    return false;
                }

                leftovers.Add(name);
            }
        }

        return leftovers.All(name => Libc.UnlinkAt(opened, name, 0) == 0);
    }

    /// <summary>A directory entry's type, asked of the file itself where the file system does not report it.</summary>
    private static bool IsRegularFile(SafeFileHandle directory, string name, byte type) =>
        type == Libc.DtReg
        || (type == Libc.DtUnknown && Libc.Statx(directory, name, Libc.AtSymlinkNoFollow, Libc.StatxBasicStats, out var stat) == 0 && stat.Type == Libc.SIfReg);

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

        using var from = _tree.OpenParent(source);
        using var to = _tree.OpenParent(target);
        var moving = _tree.Describe(from, source) ?? throw StorageException.NotFound(source);
        var directory = moving.Type == Libc.SIfDir;
        if (directory && source.Contains(target))
        {
            throw new StorageException(StorageErrorKind.InvalidName, $"Cannot move '{source}' into itself");
        }

        if (!directory && _tree.Describe(to, target)?.Type == Libc.SIfDir)
        {
            throw new StorageException(StorageErrorKind.IsADirectory, $"'{target}' is a directory");
        }

        // A file replaces a file at the target, as rename(2) does; a directory never replaces anything.
        if (Libc.RenameAt2(from, source.Name, to, target.Name, directory ? Libc.RenameNoReplace : 0) != 0)
        {
            throw Libc.Errno is Libc.EEXIST or Libc.ENOTEMPTY
                ? new StorageException(StorageErrorKind.AlreadyExists, $"'{target}' exists")
                : FileSystemErrors.For(Libc.Errno, source, "renaming");
        }

        return ValueTask.CompletedTask;
    }

    public unsafe ValueTask SetModificationTimeAsync(StoragePath path, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var (opened, stat) = _tree.OpenFile(path, "setting a time", orDirectory: true);
        using (opened)
        using (var file = ConfinedTree.Reopen(opened, Libc.ORdOnly | (stat.Type == Libc.SIfDir ? Libc.ODirectory : 0), path))
        {
            var ticks = time.ToUniversalTime().Ticks - DateTimeOffset.UnixEpoch.Ticks;
            var times = stackalloc Libc.Timespec[2];
            times[0] = new Libc.Timespec { Nanoseconds = Libc.UtimeOmit };
            times[1] = new Libc.Timespec
            {
                Seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rest) - (rest < 0 ? 1 : 0), // before 1970 too
                Nanoseconds = (rest < 0 ? rest + TimeSpan.TicksPerSecond : rest) * 100,
            };
            return Libc.FutimeNs(file, times) == 0 ? ValueTask.CompletedTask : throw FileSystemErrors.For(Libc.Errno, path, "setting a time");
        }
    }

    /// <summary>The SHA-256 an upload kept with the file (<see cref="StoredDigest"/>), else the file read through the hash.</summary>
    public async ValueTask<byte[]> GetHashAsync(StoragePath path, string algorithm, CancellationToken cancellationToken)
    {
        await using var stream = (FileStream)OpenRead(_tree, path, 0);
        return (algorithm == Hashing.Sha256 ? StoredDigest.Read(stream.SafeFileHandle) : null)
            ?? await Hashing.ComputeAsync(stream, algorithm, cancellationToken);
    }

    public ValueTask ProbeAsync(CancellationToken cancellationToken)
    {
        using var root = _tree.OpenDirectory(StoragePath.Root, out _);
        return root is not null
            ? ValueTask.CompletedTask
            : throw new StorageException(StorageErrorKind.Unavailable, $"The storage root '{_shared.Root}' is missing");
    }

    public void Dispose()
    {
        if (_sweep is not null) // the provider itself, not a confined view
        {
            _sweep.Dispose();
            _shared.Temporaries.Dispose();
        }
    }

    private void RemoveStaleTemporaries(TimeProvider time)
    {
        try
        {
            if (_shared.Temporaries.RemoveStale(time.GetUtcNow()) is > 0 and var removed)
            {
                FileSystemLog.StaleTemporariesRemoved(_shared.Logger, removed);
            }
        }
        catch (Exception ex) when (ex is IOException or StorageException or ObjectDisposedException)
        {
            FileSystemLog.StaleTemporariesNotRemoved(_shared.Logger, ex.Message);
        }
    }

    internal static StorageEntry Entry(StoragePath path, Libc.StatxBuffer stat) =>
        new(path, stat.Type == Libc.SIfDir, stat.Type == Libc.SIfDir ? 0 : (long)stat.Size, stat.Modified) { UniqueId = stat.UniqueId };

    /// <summary>What the provider and its confined views share.</summary>
    private sealed record Shared(string Root, UploadTemporaries Temporaries, AppendLocks Locks, ILogger Logger);
}

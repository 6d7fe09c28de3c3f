using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// Storage paths on the local disk, opened inside one directory tree (the storage root, or a user's root within
/// it) and proven to be there. Every path is first opened without side effects (<c>O_PATH</c>: it follows
/// symbolic links, but never blocks, creates or truncates), then the kernel is asked where the opened object
/// really is (<c>/proc/self/fd/N</c>); outside the tree it is closed and treated as absent. Everything that
/// follows works on that opened object — reading, writing, or a <c>*at</c> call on an opened directory — so a
/// link swapped in after the check cannot redirect it.
/// </summary>
internal sealed class ConfinedTree
{
    private readonly string _storageRoot;
    private readonly string _root;

    /// <param name="storageRoot">the storage root's real path (storage paths are under it).</param>
    /// <param name="root">the real path of the tree everything must stay in: the storage root or a user's root.</param>
    public ConfinedTree(string storageRoot, string root) => (_storageRoot, _root) = (storageRoot, root);

    /// <summary>The same disk, confined to the tree whose real path is <paramref name="root"/>.</summary>
    public ConfinedTree Within(string root) => new(_storageRoot, root);

    /// <summary>The one place a storage path becomes a disk path. Reserved names are not addressable.</summary>
    public string FullPath(StoragePath path)
    {
        foreach (var segment in path.Segments)
        {
            if (StorageNames.IsReserved(segment))
            {
                throw new StorageException(StorageErrorKind.InvalidName, $"'{segment}' is a reserved name");
            }
        }

        return path.IsRoot ? _storageRoot : _storageRoot + path.Value;
    }

    /// <summary>The object at <paramref name="path"/>, opened O_PATH and proven inside the tree; or null with the reason.</summary>
    public SafeFileHandle? Open(StoragePath path, out int errno)
    {
        var fd = Libc.Open(FullPath(path), Libc.OPath | Libc.OCloexec, 0);
        if (fd < 0)
        {
            errno = Libc.Errno;
            return null;
        }

        var handle = Libc.Handle(fd);
        if (RealPath(handle) is { } real && Contains(real))
        {
            errno = 0;
            return handle;
        }

        handle.Dispose();
        errno = Libc.EXDEV; // it leads outside the tree: as good as not there
        return null;
    }

    /// <summary>A directory at <paramref name="path"/> (O_PATH, proven inside), for <c>*at</c> calls; or null with the reason.</summary>
    public SafeFileHandle? OpenDirectory(StoragePath path, out int errno)
    {
        var handle = Open(path, out errno);
        if (handle is null)
        {
            return null;
        }

        if (Libc.Statx(handle, string.Empty, Libc.AtEmptyPath, Libc.StatxBasicStats, out var stat) == 0 && stat.Type == Libc.SIfDir)
        {
            return handle;
        }

        handle.Dispose();
        errno = Libc.ENOTDIR;
        return null;
    }

    /// <summary>The directory that holds <paramref name="path"/>, opened and proven inside the tree.</summary>
    public SafeFileHandle OpenParent(StoragePath path) =>
        OpenDirectory(path.Parent, out var errno)
        ?? throw (errno == Libc.ENOTDIR
            ? new StorageException(StorageErrorKind.NotADirectory, $"A part of '{path}' is not a directory")
            : new StorageException(StorageErrorKind.NotFound, $"The directory of '{path}' does not exist"));

    /// <summary>
    /// What is at <paramref name="path"/> in its opened <paramref name="parent"/>, a symbolic link followed while it
    /// stays inside the tree; null when there is nothing, or nothing reachable.
    /// </summary>
    public Libc.StatxBuffer? Describe(SafeFileHandle parent, StoragePath path)
    {
        if (Libc.Statx(parent, path.Name, Libc.AtSymlinkNoFollow, Libc.StatxBasicStats, out var stat) != 0)
        {
            return Libc.Errno == Libc.ENOENT ? null : throw FileSystemErrors.For(Libc.Errno, path, "stat");
        }

        if (stat.Type != Libc.SIfLnk)
        {
            return stat;
        }

        using var target = Open(path, out _);
        return target is not null && Libc.Statx(target, string.Empty, Libc.AtEmptyPath, Libc.StatxBasicStats, out stat) == 0 ? stat : null;
    }

    /// <summary>The status of an opened object.</summary>
    public static Libc.StatxBuffer Stat(SafeFileHandle opened, StoragePath path) =>
        Libc.Statx(opened, string.Empty, Libc.AtEmptyPath, Libc.StatxBasicStats, out var stat) == 0 ? stat : throw FileSystemErrors.For(Libc.Errno, path, "stat");

    /// <summary>Opens the already proven object again for I/O (the same inode, whatever its path is now).</summary>
    public static SafeFileHandle Reopen(SafeFileHandle opened, int flags, StoragePath path)
    {
        var fd = Libc.Open(ProcPath(opened), flags | Libc.OCloexec, 0);
        return fd >= 0 ? Libc.Handle(fd) : throw FileSystemErrors.For(Libc.Errno, path, "opening");
    }

    /// <summary>Where the kernel says an open object is; null when it cannot say (deleted, or not a path).</summary>
    public static unsafe string? RealPath(SafeFileHandle opened)
    {
        var buffer = stackalloc byte[4096];
        var length = Libc.ReadLink(ProcPath(opened), buffer, 4096);
        if (length <= 0 || length >= 4096)
        {
            return null;
        }

        var path = Encoding.UTF8.GetString(buffer, (int)length);
        return path.EndsWith(" (deleted)", StringComparison.Ordinal) ? null : path;
    }

    /// <summary>The real path of a directory given by its disk path; null when it cannot be opened.</summary>
    public static string? RealPath(string directory)
    {
        var fd = Libc.Open(directory, Libc.OPath | Libc.ODirectory | Libc.OCloexec, 0);
        if (fd < 0)
        {
            return null;
        }

        using var handle = Libc.Handle(fd);
        return RealPath(handle);
    }

    private bool Contains(string realPath) =>
        _root == "/" || realPath == _root || realPath.StartsWith(_root + "/", StringComparison.Ordinal);

    private static string ProcPath(SafeFileHandle handle) =>
        "/proc/self/fd/" + handle.DangerousGetHandle().ToInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
}

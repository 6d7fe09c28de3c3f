using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// Storage paths on the local disk, opened inside one directory tree (the storage root, or a user's root within
/// it) and proven to be there. A path is opened without side effects (<c>O_PATH</c>: never blocks, creates or
/// truncates) by the kernel beneath the tree's root (<c>openat2</c> with <c>RESOLVE_BENEATH</c>): every
/// component, and every symbolic link on the way, must resolve inside the tree. A link with an absolute target
/// cannot be resolved that way; such a path is opened normally and the kernel is then asked where the opened
/// object really is (<c>/proc/self/fd/N</c>): outside the tree it is closed and treated as absent, and when that
/// open fails the failure is reported as "not there", whatever the reason, so nothing about places outside the
/// tree can be learnt from the replies. Everything that follows works on the opened object — reading, writing,
/// or a <c>*at</c> call on an opened directory — so a link swapped in after the check cannot redirect it.
/// </summary>
internal sealed class ConfinedTree
{
    private static bool s_noOpenat2;

    private readonly string _storageRoot;
    private readonly StoragePath _rootPath;
    private readonly string _root;

    /// <param name="storageRoot">the storage root's real path (storage paths are under it).</param>
    /// <param name="rootPath">the tree everything must stay in, as a storage path: the root, or a user's root.</param>
    /// <param name="root">the real path of that tree.</param>
    public ConfinedTree(string storageRoot, StoragePath rootPath, string root) => (_storageRoot, _rootPath, _root) = (storageRoot, rootPath, root);

    /// <summary>The same disk, confined to the tree at <paramref name="rootPath"/>, whose real path is <paramref name="root"/>.</summary>
    public ConfinedTree Within(StoragePath rootPath, string root) => new(_storageRoot, rootPath, root);

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
        var full = FullPath(path);
        if (OpenBeneath(path, out errno) is { } beneath)
        {
            return beneath;
        }

        if (errno is not (Libc.EXDEV or Libc.ENOSYS))
        {
            return null; // the kernel failed inside the tree: the reason is the tree's own
        }

        // A link with an absolute target, or a kernel without openat2: open, then prove where it landed.
        var fd = Libc.Open(full, Libc.OPath | Libc.OCloexec, 0);
        if (fd >= 0)
        {
            var handle = Libc.Handle(fd);
            if (RealPath(handle) is { } real && Contains(real))
            {
                errno = 0;
                return handle;
            }

            handle.Dispose();
        }

        errno = Libc.ENOENT; // outside the tree, or failed on a way that may lead there: as good as not there
        return null;
    }

    /// <summary>openat2 beneath the tree's root; null with errno (EXDEV: the way leaves the tree or a link is absolute).</summary>
    private SafeFileHandle? OpenBeneath(StoragePath path, out int errno)
    {
        if (s_noOpenat2 || !_rootPath.Contains(path))
        {
            errno = Libc.ENOSYS;
            return null;
        }

        var rootFd = Libc.Open(_root, Libc.OPath | Libc.ODirectory | Libc.OCloexec, 0);
        if (rootFd < 0)
        {
            errno = Libc.ENOENT;
            return null;
        }

        using var root = Libc.Handle(rootFd);
        var relative = path == _rootPath ? "." : path.Value[(_rootPath.IsRoot ? 1 : _rootPath.Value.Length + 1)..];
        var fd = Libc.OpenAt2(root, relative, Libc.OPath | Libc.OCloexec, Libc.ResolveBeneath | Libc.ResolveNoMagicLinks);
        if (fd >= 0)
        {
            errno = 0;
            return Libc.Handle(fd);
        }

        errno = Libc.Errno;
        if (errno == Libc.ENOSYS)
        {
            s_noOpenat2 = true;
        }

        return null;
    }

    /// <summary>
    /// The regular file at <paramref name="path"/> (or, with <paramref name="orDirectory"/>, a directory), opened
    /// O_PATH and proven inside the tree, with its status. Anything else — a FIFO, a device, a socket — counts as
    /// absent: opening one for I/O could block a thread forever or reach a device.
    /// </summary>
    public (SafeFileHandle Opened, Libc.StatxBuffer Stat) OpenFile(StoragePath path, string doing, bool orDirectory = false)
    {
        var opened = Open(path, out var errno) ?? throw FileSystemErrors.For(errno, path, doing);
        if (Libc.Statx(opened, string.Empty, Libc.AtEmptyPath, Libc.StatxBasicStats, out var stat) == 0
            && (stat.Type == Libc.SIfReg || (orDirectory && stat.Type == Libc.SIfDir)))
        {
            return (opened, stat);
        }

        opened.Dispose();
        throw stat.Type == Libc.SIfDir
            ? new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory ({doing})")
            : StorageException.NotFound(path);
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
            // Nothing can exist under a name too long for the file system either.
            return Libc.Errno is Libc.ENOENT or Libc.ENAMETOOLONG ? null : throw FileSystemErrors.For(Libc.Errno, path, "stat");
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
        var added = false;
        opened.DangerousAddRef(ref added); // the fd number stays this object's while its /proc name is in use
        try
        {
            var fd = Libc.Open(ProcPath(opened), flags | Libc.OCloexec, 0);
            return fd >= 0 ? Libc.Handle(fd) : throw FileSystemErrors.For(Libc.Errno, path, "opening");
        }
        finally
        {
            if (added)
            {
                opened.DangerousRelease();
            }
        }
    }

    /// <summary>Where the kernel says an open object is; null when it cannot say (deleted, or not a path).</summary>
    public static unsafe string? RealPath(SafeFileHandle opened)
    {
        var buffer = stackalloc byte[4096];
        nint length;
        var added = false;
        opened.DangerousAddRef(ref added);
        try
        {
            length = Libc.ReadLink(ProcPath(opened), buffer, 4096);
        }
        finally
        {
            if (added)
            {
                opened.DangerousRelease();
            }
        }

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

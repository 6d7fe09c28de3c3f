using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// An upload being written: the open file, and the directory and name it has until it commits; no name for an
/// unnamed file (<c>O_TMPFILE</c>), which has none until its commit links it into place.
/// </summary>
internal sealed record Temporary(SafeFileHandle File, SafeFileHandle Directory, string? Name);

/// <summary>
/// Where uploads are written until they commit. Where the file system allows it, an upload is an unnamed file in
/// its target's directory (<c>O_TMPFILE</c>): never listed or addressable, and if the process dies before the
/// commit the kernel frees it. The commit links it under a reserved name and renames that over the target, in the
/// same directory: one atomic rename, as a folder watcher expects (<c>IN_MOVED_TO</c>); only a crash in the moment
/// between the two leaves a reserved name beside the target, never listed, which <c>RMD</c> removes. Elsewhere (a
/// file system without <c>O_TMPFILE</c>, or no <c>/proc</c> to link through; the gateway tries once at start) uploads
/// are written in one hidden directory under the storage root, on the same file system as every target, so the
/// commit is one atomic rename; a rename of the target's directory meanwhile cannot strand such a temporary, and
/// none is ever listed or addressable. Those of a process that died are removed when the next one starts and every
/// hour after, once nothing has written to them for an hour (a running upload writes continuously; the margin
/// spares another replica's uploads on a shared volume). In that mode a target on another mount than the storage
/// root (a rename cannot cross mounts) gets its named temporary beside it instead, under a reserved name.
/// </summary>
/// <remarks>
/// Unnamed files take per-upload work off the directories: no name is added and removed in one shared directory,
/// and no commit renames across directories, which the kernel serialises for the whole file system (its
/// <c>s_vfs_rename_mutex</c>). With 200 sessions uploading small files at once the gateway spent 7.7% of its
/// samples in that rename and more waiting on the shared directory's lock (<c>perf</c>).
/// </remarks>
internal sealed class UploadTemporaries : IDisposable
{
    /// <summary>The directory's name under the storage root (a reserved name: never listed or addressable).</summary>
    public const string DirectoryName = ".ftpgw-uploads";

    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    private const uint FileMode = 0b110_100_100;

    private readonly SafeFileHandle _directory;
    private readonly ulong _mount;

    /// <param name="storageRoot">the storage root, where the directory of named temporaries is.</param>
    /// <param name="unnamed">false: named temporaries only, as on a file system without <c>O_TMPFILE</c> (tests).</param>
    public UploadTemporaries(string storageRoot, bool unnamed = true)
    {
        var path = Path.Join(storageRoot, DirectoryName);
        Directory.CreateDirectory(path);
        var fd = Libc.Open(path, Libc.OPath | Libc.ODirectory | Libc.ONoFollow | Libc.OCloexec, 0);
        _directory = fd >= 0 ? Libc.Handle(fd) : throw new IOException($"cannot open {path}: errno {Libc.Errno}", Libc.Errno);
        _mount = MountOf(_directory);
        Unnamed = unnamed && CanLinkUnnamed(_directory);
    }

    /// <summary>Whether uploads are unnamed files: the storage root's file system has <c>O_TMPFILE</c>, and they can be linked through <c>/proc</c>.</summary>
    public bool Unnamed { get; }

    /// <summary>A new, empty temporary for <paramref name="path"/>, to land in <paramref name="targetDirectory"/>, open for writing.</summary>
    public Temporary Create(SafeFileHandle targetDirectory, StoragePath path)
    {
        if (Unnamed)
        {
            var unnamed = OpenUnnamed(targetDirectory);
            if (unnamed >= 0)
            {
                return new Temporary(Libc.Handle(unnamed), targetDirectory, null);
            }

            if (Libc.Errno is not (Libc.EOPNOTSUPP or Libc.EISDIR or Libc.EINVAL))
            {
                throw FileSystemErrors.For(Libc.Errno, path, "creating an upload");
            }
        }

        // Named: this mode, or a target on a file system without O_TMPFILE (another mount than the root's).
        var (directory, name) = MountOf(targetDirectory) == _mount
            ? (_directory, Guid.NewGuid().ToString("N") + ".part")
            : (targetDirectory, ReservedName());
        var fd = Libc.OpenAt(directory, name, Libc.OWrOnly | Libc.OCreat | Libc.OExcl | Libc.ONoFollow | Libc.OCloexec, FileMode);
        return fd >= 0 ? new Temporary(Libc.Handle(fd), directory, name) : throw FileSystemErrors.For(Libc.Errno, path, "creating an upload");
    }

    /// <summary>The temporary's data, open for reading from its start (before the temporary is deleted).</summary>
    public static SafeFileHandle OpenRead(Temporary temporary)
    {
        var fd = temporary.Name is null
            ? Libc.Open(ProcPath(temporary.File), Libc.ORdOnly | Libc.OCloexec, 0)
            : Libc.OpenAt(temporary.Directory, temporary.Name, Libc.ORdOnly | Libc.ONoFollow | Libc.OCloexec, 0);
        return fd >= 0 ? Libc.Handle(fd) : throw FileSystemErrors.For(Libc.Errno, StoragePath.Root, "reading an upload temporary");
    }

    /// <summary>Moves a temporary into place; 0 or the errno (EEXIST when <paramref name="noReplace"/> and the name is taken).</summary>
    public static int Commit(Temporary temporary, SafeFileHandle targetDirectory, string targetName, bool noReplace)
    {
        var flags = noReplace ? Libc.RenameNoReplace : 0;
        if (temporary.Name is not null)
        {
            return Libc.RenameAt2(temporary.Directory, temporary.Name, targetDirectory, targetName, flags) == 0 ? 0 : Libc.Errno;
        }

        // An unnamed file: a reserved name first, then one rename in the same directory.
        var reserved = ReservedName();
        if (Link(temporary.File, targetDirectory, reserved) != 0)
        {
            return Libc.Errno;
        }

        if (Libc.RenameAt2(targetDirectory, reserved, targetDirectory, targetName, flags) == 0)
        {
            return 0;
        }

        var errno = Libc.Errno;
        Libc.UnlinkAt(targetDirectory, reserved, 0);
        return errno;
    }

    /// <summary>Deletes a temporary that did not commit (an unnamed one goes when its file is closed).</summary>
    public static void Delete(Temporary temporary)
    {
        if (temporary.Name is not null)
        {
            Libc.UnlinkAt(temporary.Directory, temporary.Name, 0);
        }
    }

    /// <summary>Removes named temporaries nobody has written to for <see cref="StaleAfter"/>; returns how many.</summary>
    public int RemoveStale(DateTimeOffset now)
    {
        var removed = 0;
        using var readable = ConfinedTree.Reopen(_directory, Libc.ORdOnly | Libc.ODirectory, StoragePath.Root);
        using var entries = new DirectoryReader(readable);
        while (entries.Next(out var name, out _))
        {
            if (name is not null
                && Libc.Statx(_directory, name, Libc.AtSymlinkNoFollow, Libc.StatxBasicStats, out var stat) == 0
                && now - stat.Modified > StaleAfter
                && Libc.UnlinkAt(_directory, name, 0) == 0)
            {
                removed++;
            }
        }

        return removed;
    }

    public void Dispose() => _directory.Dispose();

    private static string ReservedName() => StorageNames.ReservedPrefix + Guid.NewGuid().ToString("N") + ".part";

    /// <summary>The open file's name in <c>/proc</c>: what an unnamed file is linked and reopened through.</summary>
    private static string ProcPath(SafeFileHandle file) => $"/proc/self/fd/{file.DangerousGetHandle()}";

    /// <summary>A new unnamed file in <paramref name="directory"/>'s file system, open for reading and writing; -1 (errno set) where it has none.</summary>
    private static int OpenUnnamed(SafeFileHandle directory) => Libc.OpenAt(directory, ".", Libc.OTmpFile | Libc.ORdWr | Libc.OCloexec, FileMode);

    /// <summary>Gives an unnamed file the name <paramref name="name"/> in <paramref name="directory"/>; 0, or -1 with errno set.</summary>
    private static int Link(SafeFileHandle file, SafeFileHandle directory, string name) =>
        Libc.LinkAt(Libc.AtFdCwd, ProcPath(file), directory, name, Libc.AtSymlinkFollow);

    /// <summary>Links an unnamed file into <paramref name="directory"/> and removes it again: whether uploads can be unnamed there.</summary>
    private static bool CanLinkUnnamed(SafeFileHandle directory)
    {
        var fd = OpenUnnamed(directory);
        if (fd < 0)
        {
            return false;
        }

        using var probe = Libc.Handle(fd);
        var name = "probe-" + Guid.NewGuid().ToString("N");
        if (Link(probe, directory, name) != 0)
        {
            return false;
        }

        Libc.UnlinkAt(directory, name, 0);
        return true;
    }

    private static ulong MountOf(SafeFileHandle directory) =>
        Libc.Statx(directory, string.Empty, Libc.AtEmptyPath, Libc.StatxMountId, out var stat) == 0 ? stat.MountId : ulong.MaxValue;
}

using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>An upload being written: the open file, and the directory and name it has until it commits.</summary>
internal sealed record Temporary(SafeFileHandle File, SafeFileHandle Directory, string Name);

/// <summary>
/// Where uploads are written until they commit: one hidden directory under the storage root, on the same file
/// system as every target, so the commit is one atomic rename. A rename of the target's directory meanwhile
/// cannot strand a temporary (it is not in there), and none is ever listed or addressable. Temporaries of a
/// process that died are removed when the next one starts and every hour after, once nothing has written to
/// them for an hour (a running upload writes continuously; the margin spares another replica's uploads on a
/// shared volume). A target on another mount than the storage root (a rename cannot cross mounts) gets its
/// temporary beside it instead, under a reserved name that is never listed; <c>RMD</c> removes such leftovers.
/// </summary>
internal sealed class UploadTemporaries : IDisposable
{
    /// <summary>The directory's name under the storage root (a reserved name: never listed or addressable).</summary>
    public const string DirectoryName = ".ftpgw-uploads";

    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    private readonly SafeFileHandle _directory;
    private readonly ulong _mount;

    public UploadTemporaries(string storageRoot)
    {
        var path = Path.Join(storageRoot, DirectoryName);
        Directory.CreateDirectory(path);
        var fd = Libc.Open(path, Libc.OPath | Libc.ODirectory | Libc.ONoFollow | Libc.OCloexec, 0);
        _directory = fd >= 0 ? Libc.Handle(fd) : throw new IOException($"cannot open {path}: errno {Libc.Errno}", Libc.Errno);
        _mount = MountOf(_directory);
    }

    /// <summary>A new, empty temporary for a file that is to land in <paramref name="targetDirectory"/>, open for writing.</summary>
    public Temporary Create(SafeFileHandle targetDirectory)
    {
        var (directory, name) = MountOf(targetDirectory) == _mount
            ? (_directory, Guid.NewGuid().ToString("N") + ".part")
            : (targetDirectory, StorageNames.ReservedPrefix + Guid.NewGuid().ToString("N") + ".part");
        var fd = Libc.OpenAt(directory, name, Libc.OWrOnly | Libc.OCreat | Libc.OExcl | Libc.ONoFollow | Libc.OCloexec, 0b110_100_100);
        return fd >= 0 ? new Temporary(Libc.Handle(fd), directory, name) : throw FileSystemErrors.For(Libc.Errno, StoragePath.Root, "creating an upload temporary");
    }

    /// <summary>The temporary's data, open for reading (its write handle may be closed already).</summary>
    public static SafeFileHandle OpenRead(Temporary temporary)
    {
        var fd = Libc.OpenAt(temporary.Directory, temporary.Name, Libc.ORdOnly | Libc.ONoFollow | Libc.OCloexec, 0);
        return fd >= 0 ? Libc.Handle(fd) : throw FileSystemErrors.For(Libc.Errno, StoragePath.Root, "reading an upload temporary");
    }

    /// <summary>Moves a temporary into place; 0 or the errno (EEXIST when <paramref name="noReplace"/> and the name is taken).</summary>
    public static int Commit(Temporary temporary, SafeFileHandle targetDirectory, string targetName, bool noReplace) =>
        Libc.RenameAt2(temporary.Directory, temporary.Name, targetDirectory, targetName, noReplace ? Libc.RenameNoReplace : 0) == 0 ? 0 : Libc.Errno;

    public static void Delete(Temporary temporary) => Libc.UnlinkAt(temporary.Directory, temporary.Name, 0);

    /// <summary>Removes temporaries nobody has written to for <see cref="StaleAfter"/>; returns how many.</summary>
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

    private static ulong MountOf(SafeFileHandle directory) =>
        Libc.Statx(directory, string.Empty, Libc.AtEmptyPath, Libc.StatxMountId, out var stat) == 0 ? stat.MountId : ulong.MaxValue;
}

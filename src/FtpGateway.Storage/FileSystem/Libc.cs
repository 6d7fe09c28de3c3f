using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// The Linux system calls the local-disk provider needs and .NET does not expose: opening without side effects
/// (<c>O_PATH</c>), the <c>*at</c> family relative to an open directory, <c>statx</c>, <c>getdents64</c>,
/// <c>renameat2</c>, <c>linkat</c> and <c>flock</c>. Every call returns -1 and sets errno on failure.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    // Flags whose values differ between x86-64 and the generic (arm64) ABI.
    private static readonly bool Generic = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    public const int ORdOnly = 0, OWrOnly = 1, ORdWr = 2, OCreat = 0x40, OExcl = 0x80, OCloexec = 0x80000, OPath = 0x200000;

    public static int ODirectory => Generic ? 0x4000 : 0x10000;

    public static int ONoFollow => Generic ? 0x8000 : 0x20000;

    /// <summary><c>O_TMPFILE</c>: an unnamed file in the directory's file system (it includes <c>O_DIRECTORY</c>).</summary>
    public static int OTmpFile => 0x400000 | ODirectory;

    public const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100, AtRemoveDir = 0x200, AtSymlinkFollow = 0x400, AtEmptyPath = 0x1000;
    public const uint RenameNoReplace = 1;
    public const uint StatxBasicStats = 0x7ff, StatxMountId = 0x1000;
    public const ulong ResolveNoMagicLinks = 0x02, ResolveBeneath = 0x08;
    private const long SysOpenat2 = 437; // the same number on every architecture
    public const int LockEx = 2, LockNb = 4, LockUn = 8;
    public const long UtimeOmit = (1L << 30) - 2;

    public const int ENOENT = 2, EINTR = 4, EAGAIN = 11, EACCES = 13, EEXIST = 17, EXDEV = 18, ENOTDIR = 20, EISDIR = 21,
        EINVAL = 22, ENOSPC = 28, EROFS = 30, ENAMETOOLONG = 36, ENOTEMPTY = 39, ELOOP = 40, EDQUOT = 122, EPERM = 1,
        ENOSYS = 38, EOPNOTSUPP = 95;

    public const ushort SIfMt = 0xF000, SIfDir = 0x4000, SIfReg = 0x8000, SIfLnk = 0xA000;
    public const byte DtUnknown = 0, DtDir = 4, DtReg = 8, DtLnk = 10;

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport(Library, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(SafeFileHandle dir, string path, int flags, uint mode);

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Syscall(long number, SafeFileHandle dir, string path, OpenHow* how, nuint size);

    /// <summary><c>openat2(2)</c> (Linux 5.6; glibc has no wrapper): opens with <paramref name="resolve"/> restrictions.</summary>
    public static int OpenAt2(SafeFileHandle dir, string path, int flags, ulong resolve)
    {
        var how = new OpenHow { Flags = (ulong)(uint)flags, Resolve = resolve };
        return (int)Syscall(SysOpenat2, dir, path, &how, (nuint)sizeof(OpenHow));
    }

    [LibraryImport(Library, EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint ReadLink(string path, byte* buffer, nint size);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(SafeFileHandle dir, string path, int flags, uint mask, out StatxBuffer result);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true)]
    public static partial int Statx(SafeFileHandle dir, byte* path, int flags, uint mask, out StatxBuffer result);

    [LibraryImport(Library, EntryPoint = "getdents64", SetLastError = true)]
    public static partial nint GetDents64(SafeFileHandle dir, byte* buffer, nint size);

    [LibraryImport(Library, EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkdirAt(SafeFileHandle dir, string path, uint mode);

    [LibraryImport(Library, EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UnlinkAt(SafeFileHandle dir, string path, int flags);

    [LibraryImport(Library, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RenameAt2(SafeFileHandle fromDir, string from, SafeFileHandle toDir, string to, uint flags);

    [LibraryImport(Library, EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LinkAt(int fromDir, string from, SafeFileHandle toDir, string to, int flags);

    [LibraryImport(Library, EntryPoint = "futimens", SetLastError = true)]
    public static partial int FutimeNs(SafeFileHandle file, Timespec* times);

    [LibraryImport(Library, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(SafeFileHandle file, int operation);

    [LibraryImport(Library, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(SafeFileHandle file, long length);

    [LibraryImport(Library, EntryPoint = "fsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FSetXattr(SafeFileHandle file, string name, byte* value, nuint size, int flags);

    [LibraryImport(Library, EntryPoint = "fgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint FGetXattr(SafeFileHandle file, string name, byte* value, nuint size);

    [LibraryImport(Library, EntryPoint = "fremovexattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FRemoveXattr(SafeFileHandle file, string name);

    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>An fd the caller owns.</summary>
    public static SafeFileHandle Handle(int fd) => new(fd, ownsHandle: true);

    /// <summary>The part of <c>struct statx</c> the provider reads (the layout is the same on every architecture).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct StatxBuffer
    {
        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Inode;

        [FieldOffset(40)]
        public ulong Size;

        [FieldOffset(112)]
        public long MtimeSeconds;

        [FieldOffset(120)]
        public uint MtimeNanoseconds;

        [FieldOffset(136)]
        public uint DevMajor;

        [FieldOffset(140)]
        public uint DevMinor;

        /// <summary>The mount the object is on (with <see cref="StatxMountId"/>): a rename never crosses one.</summary>
        [FieldOffset(144)]
        public ulong MountId;

        public readonly ushort Type => (ushort)(Mode & SIfMt);

        public readonly DateTimeOffset Modified =>
            DateTimeOffset.FromUnixTimeSeconds(MtimeSeconds).AddTicks(MtimeNanoseconds / 100);

        /// <summary>The same for every name of one file, different for different files (RFC 3659 §7.5.2).</summary>
        public readonly string UniqueId => $"{DevMajor:x}.{DevMinor:x}.{Inode:x}";
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

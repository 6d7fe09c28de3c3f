using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// The SHA-256 of an uploaded file, kept with the file as the extended attribute <c>user.ftpgateway.sha256</c>
/// (lower-case hex, as <c>getfattr -n user.ftpgateway.sha256</c> shows it) where the file system allows one; where
/// it does not (or the attribute is missing), HASH reads the file. It is written by the gateway's uploads only: a
/// program that rewrites a file in place outside the gateway leaves it stale (one that replaces the file drops it).
/// </summary>
internal static unsafe class StoredDigest
{
    public const string Attribute = "user.ftpgateway.sha256";

    /// <summary>Keeps <paramref name="sha256"/> with the open file; false where the file system keeps no such attribute.</summary>
    public static bool Write(SafeFileHandle file, byte[] sha256)
    {
        var value = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(sha256));
        fixed (byte* p = value)
        {
            return Libc.FSetXattr(file, Attribute, p, (nuint)value.Length, 0) == 0;
        }
    }

    /// <summary>Drops the digest of a file about to change in place (an append): never a stale one, even after a crash.</summary>
    public static void Remove(SafeFileHandle file) => Libc.FRemoveXattr(file, Attribute);

    /// <summary>The digest kept with the open file, or null.</summary>
    public static byte[]? Read(SafeFileHandle file)
    {
        var value = stackalloc byte[64];
        var length = Libc.FGetXattr(file, Attribute, value, 64);
        return length == 64 ? ObjectStore.ObjectMetadata.ReadSha256(Encoding.ASCII.GetString(value, 64)) : null;
    }
}

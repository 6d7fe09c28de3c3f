using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// The names in an open directory, read with <c>getdents64</c> a batch at a time, so a directory of a million
/// entries costs one buffer. Names that are not valid UTF-8 come back as null (FTP could not address them).
/// </summary>
internal sealed class DirectoryReader(SafeFileHandle directory) : IDisposable
{
    private const int BatchSize = 64 * 1024;
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(BatchSize);
    private int _length;
    private int _position;
    private int _current; // where the last entry returned by Next begins

    /// <summary>The next entry's name and type (<c>DT_*</c>); false at the end. "." and ".." are left out.</summary>
    public unsafe bool Next(out string? name, out byte type)
    {
        while (true)
        {
            if (_position >= _length)
            {
                fixed (byte* p = _buffer)
                {
                    var read = Libc.GetDents64(directory, p, BatchSize);
                    if (read < 0)
                    {
                        throw new IOException($"reading the directory failed: errno {Libc.Errno}", Libc.Errno);
                    }

                    (_length, _position) = ((int)read, 0);
                }

                if (_length == 0)
                {
                    (name, type) = (null, 0);
                    return false;
                }
            }

            // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
            var record = _buffer.AsSpan(_position);
            var length = MemoryMarshal.Read<ushort>(record[16..]);
            type = record[18];
            var raw = record[19..length];
            raw = raw[..raw.IndexOf((byte)0)];
            _current = _position;
            _position += length;
            if (raw.SequenceEqual("."u8) || raw.SequenceEqual(".."u8))
            {
                continue;
            }

            try
            {
                name = StrictUtf8.GetString(raw);
            }
            catch (DecoderFallbackException)
            {
                name = null;
            }

            return true;
        }
    }

    /// <summary>
    /// <c>statx</c> of the entry <see cref="Next"/> returned last, relative to <paramref name="directory"/>, by
    /// the name's bytes as read: no conversion of the name and back for every entry of a large directory.
    /// </summary>
    public unsafe int StatCurrent(SafeFileHandle directory, int flags, out Libc.StatxBuffer result)
    {
        fixed (byte* record = &_buffer[_current])
        {
            return Libc.Statx(directory, record + 19, flags, Libc.StatxBasicStats, out result); // d_name, NUL-terminated
        }
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
}

using System.Buffers;
using System.Security.Cryptography;

namespace FtpGateway.Storage;

/// <summary>Digest helpers shared by providers that hash by reading (the HASH names of draft-bryan-ftpext-hash).</summary>
public static class Hashing
{
    public const string Sha256 = "SHA-256";
    public const string Sha1 = "SHA-1";
    public const string Md5 = "MD5";
    public const string Crc32 = "CRC32";

    public static IReadOnlyList<string> All { get; } = [Sha256, Sha1, Md5, Crc32];

    /// <summary>Reads <paramref name="source"/> to its end and returns its digest.</summary>
    public static ValueTask<byte[]> ComputeAsync(Stream source, string algorithm, CancellationToken cancellationToken) =>
        ComputeAsync(source, algorithm, long.MaxValue, cancellationToken);

    /// <summary>The digest of the next <paramref name="length"/> bytes of <paramref name="source"/> (fewer if it ends first).</summary>
    public static async ValueTask<byte[]> ComputeAsync(Stream source, string algorithm, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var hasher = Create(algorithm);
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            int read;
            while (length > 0 && (read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length)), cancellationToken)) > 0)
            {
                hasher.TransformBlock(buffer, 0, read, null, 0);
                length -= read;
            }

            hasher.TransformFinalBlock([], 0, 0);
            return hasher.Hash!;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static HashAlgorithm Create(string algorithm) => algorithm switch
    {
        Sha256 => SHA256.Create(),
#pragma warning disable CA5350, CA5351 // Integrity checks requested by the client (XMD5, XSHA1), not security.
        Sha1 => SHA1.Create(),
        Md5 => MD5.Create(),
#pragma warning restore CA5350, CA5351
        Crc32 => new Crc32Algorithm(),
        _ => throw new StorageException(StorageErrorKind.NotSupported, $"Hash algorithm '{algorithm}' is not supported"),
    };

    /// <summary>CRC-32 (IEEE 802.3, as zip and XCRC use), big-endian result.</summary>
    private sealed class Crc32Algorithm : HashAlgorithm
    {
        private static readonly uint[] Table = BuildTable();
        private uint _crc = 0xFFFFFFFF;

        public Crc32Algorithm() => HashSizeValue = 32;

        public override void Initialize() => _crc = 0xFFFFFFFF;

        protected override void HashCore(byte[] array, int ibStart, int cbSize)
        {
            var crc = _crc;
            for (var i = ibStart; i < ibStart + cbSize; i++)
            {
                crc = Table[(crc ^ array[i]) & 0xFF] ^ (crc >> 8);
            }

            _crc = crc;
        }

        protected override byte[] HashFinal()
        {
            var value = ~_crc;
            return [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
        }

        private static uint[] BuildTable()
        {
            var table = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                var c = i;
                for (var k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
                }

                table[i] = c;
            }

            return table;
        }
    }
}

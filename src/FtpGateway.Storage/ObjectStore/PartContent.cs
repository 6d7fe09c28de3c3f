using System.Security.Cryptography;

namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// The bytes of one part of an upload, held in pooled chunks (a part of hundreds of MiB is never one array). The
/// SDKs read it as a seekable stream (they rewind it to retry a request); its MD5 is each store's per-part check.
/// </summary>
public sealed class PartContent
{
    private readonly IReadOnlyList<byte[]> _chunks;
    private readonly int _chunkSize;

    internal PartContent(IReadOnlyList<byte[]> chunks, int chunkSize, long length) => (_chunks, _chunkSize, Length) = (chunks, chunkSize, length);

    public long Length { get; }

    /// <summary>No bytes (the one part of an empty object's multipart copy).</summary>
    public static PartContent Empty { get; } = new([], 1, 0);

    /// <summary>A new stream over the bytes, from the beginning.</summary>
    public Stream OpenRead() => new ChunkStream(this);

    /// <summary>Adds the bytes to <paramref name="hash"/>.</summary>
    public void AppendTo(IncrementalHash hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        foreach (var (chunk, length) in Segments())
        {
            hash.AppendData(chunk, 0, length);
        }
    }

#pragma warning disable CA5351 // MD5 is the stores' transport integrity check (Content-MD5), not a security use.
    public byte[] Md5()
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        AppendTo(md5);
        return md5.GetHashAndReset();
    }
#pragma warning restore CA5351

    private IEnumerable<(byte[] Chunk, int Length)> Segments()
    {
        var left = Length;
        foreach (var chunk in _chunks)
        {
            if (left <= 0)
            {
                yield break;
            }

            var length = (int)Math.Min(left, _chunkSize);
            yield return (chunk, length);
            left -= length;
        }
    }

    private sealed class ChunkStream(PartContent content) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => content.Length;

        public override long Position
        {
            get => _position;
            set => _position = value is >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var available = content.Length - _position;
            if (available <= 0 || buffer.IsEmpty)
            {
                return 0;
            }

            var chunk = (int)(_position / content._chunkSize);
            var within = (int)(_position % content._chunkSize);
            var n = (int)Math.Min(Math.Min(buffer.Length, content._chunkSize - within), available);
            content._chunks[chunk].AsSpan(within, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => content.Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

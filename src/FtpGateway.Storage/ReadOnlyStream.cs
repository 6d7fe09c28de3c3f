namespace FtpGateway.Storage;

/// <summary>
/// Base for the forward-only, read-only stream wrappers the gateway passes around (downloads, conversions,
/// concatenations): derived classes implement <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> only.
/// </summary>
public abstract class ReadOnlyStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>A read-only stream over a part buffer (the SDKs take streams), without copying it.</summary>
    public static Stream Over(ReadOnlyMemory<byte> content) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    /// <summary>
    /// Reads <paramref name="source"/> until <paramref name="count"/> bytes are in the buffer or the source ends:
    /// how the object-store uploads fill a part or block.
    /// </summary>
    public static async ValueTask<(int Read, bool Ended)> FillAsync(Stream source, byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var total = 0;
        while (total < count)
        {
            var n = await source.ReadAsync(buffer.AsMemory(offset + total, count - total), cancellationToken);
            if (n == 0)
            {
                return (total, true);
            }

            total += n;
        }

        return (total, false);
    }
}

using System.Buffers;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Protocol;

/// <summary>Writes one listed entry, with its CRLF, as UTF-8 into <paramref name="destination"/>; false when it does not fit.</summary>
internal delegate bool ListingLine(Span<byte> destination, StorageEntry entry, string name, out int written);

/// <summary>
/// A listing on its way to the data connection: lines are formatted straight into one pooled 64 KiB buffer, which
/// goes out when it is nearly full. No string per line and no asynchronous call per line: a directory of a
/// million entries costs the buffer and one write per 64 KiB.
/// </summary>
internal sealed class ListingWriter(Stream output) : IDisposable
{
    private const int Size = 64 * 1024;

    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(Size);
    private int _used;

    public async ValueTask WriteAsync(ListingLine line, StorageEntry entry, string name, CancellationToken cancellationToken)
    {
        int written;
        while (!line(_buffer.AsSpan(_used, Size - _used), entry, name, out written))
        {
            if (_used == 0)
            {
                throw new InvalidOperationException($"A listing line longer than {Size} bytes");
            }

            await FlushAsync(cancellationToken);
        }

        _used += written;
        if (_used > Size - 1024)
        {
            await FlushAsync(cancellationToken);
        }
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_used > 0)
        {
            await output.WriteAsync(_buffer.AsMemory(0, _used), cancellationToken);
            _used = 0;
        }
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
}

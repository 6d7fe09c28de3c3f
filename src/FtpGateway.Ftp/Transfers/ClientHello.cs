using System.Buffers.Binary;
using System.Security.Authentication;

#pragma warning disable CA5397, SYSLIB0039 // old versions are named to recognise what a client offers, not to enable them

namespace FtpGateway.Ftp.Transfers;

/// <summary>
/// The first TLS record of a data connection, read before the handshake to learn which TLS versions the client
/// offers (.NET's own view of a ClientHello reports only its legacy version fields); the bytes are then handed to
/// the handshake unchanged (<see cref="Replayed"/>).
/// </summary>
internal sealed class ClientHello
{
    private const int HeaderLength = 5;
    private const byte Handshake = 22;
    private const byte ClientHelloType = 1;
    private const ushort SupportedVersions = 0x002b;

    private ClientHello(byte[] record, SslProtocols offered) => (Record, Offered) = (record, offered);

    /// <summary>The record as it arrived.</summary>
    public byte[] Record { get; }

    /// <summary>The versions the client offers (TLS 1.2, TLS 1.3); None when the record is not a ClientHello.</summary>
    public SslProtocols Offered { get; }

    /// <summary>Reads one TLS record from <paramref name="stream"/> (at most 16 KiB + header) and reads the versions in it.</summary>
    public static async Task<ClientHello> ReadAsync(Stream stream, CancellationToken ct)
    {
        var header = new byte[HeaderLength];
        await stream.ReadExactlyAsync(header, ct);
        var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(3));
        var record = new byte[HeaderLength + Math.Min((int)length, 16 * 1024 + 256)];
        header.CopyTo(record, 0);
        await stream.ReadExactlyAsync(record.AsMemory(HeaderLength), ct);
        return new ClientHello(record, header[0] == Handshake ? Parse(record.AsSpan(HeaderLength)) : SslProtocols.None);
    }

    /// <summary>A stream that yields the record first, then <paramref name="rest"/>: what the handshake reads.</summary>
    public Stream Replayed(Stream rest) => new ReplayStream(Record, rest);

    private static SslProtocols Parse(ReadOnlySpan<byte> hello)
    {
        try
        {
            if (hello[0] != ClientHelloType)
            {
                return SslProtocols.None;
            }

            var legacy = Version(BinaryPrimitives.ReadUInt16BigEndian(hello[4..]));
            var at = 4 + 2 + 32;                                             // type, length, version, random
            at += 1 + hello[at];                                             // session id
            at += 2 + BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);      // cipher suites
            at += 1 + hello[at];                                             // compression methods
            if (at + 2 > hello.Length)
            {
                return legacy;
            }

            var end = at + 2 + BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);
            for (at += 2; at + 4 <= end;)
            {
                var type = BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);
                var size = BinaryPrimitives.ReadUInt16BigEndian(hello[(at + 2)..]);
                if (type == SupportedVersions)
                {
                    var versions = hello.Slice(at + 5, hello[at + 4]);
                    var offered = SslProtocols.None;
                    for (var i = 0; i + 1 < versions.Length; i += 2)
                    {
                        offered |= Version(BinaryPrimitives.ReadUInt16BigEndian(versions[i..]));
                    }

                    return offered;
                }

                at += 4 + size;
            }

            return legacy;
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            return SslProtocols.None; // cut short or malformed: the handshake itself will say so
        }
    }

    private static SslProtocols Version(ushort version) => version switch
    {
        0x0301 => SslProtocols.Tls,
        0x0302 => SslProtocols.Tls11,
        0x0303 => SslProtocols.Tls12,
        0x0304 => SslProtocols.Tls13,
        _ => SslProtocols.None,
    };

    private sealed class ReplayStream(byte[] first, Stream rest) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < first.Length)
            {
                var n = Math.Min(buffer.Length, first.Length - _position);
                first.AsMemory(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            return await rest.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => rest.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => rest.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => rest.Write(buffer, offset, count);

        public override Task FlushAsync(CancellationToken cancellationToken) => rest.FlushAsync(cancellationToken);

        public override void Flush() => rest.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rest.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

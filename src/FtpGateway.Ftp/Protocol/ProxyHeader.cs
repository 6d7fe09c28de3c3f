using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FtpGateway.Ftp.Protocol;

/// <summary>A PROXY protocol header that does not parse (or never arrived): the connection is closed.</summary>
internal sealed class ProxyHeaderException : Exception
{
    public ProxyHeaderException()
        : this("Malformed PROXY protocol header")
    {
    }

    public ProxyHeaderException(string message)
        : base(message)
    {
    }

    public ProxyHeaderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The PROXY protocol header a load balancer puts in front of a connection (HAProxy's proxy-protocol.txt,
/// versions 1 and 2): the client's address and the address it connected to. <see cref="Source"/> is null for
/// a connection the proxy made on its own (v1 <c>UNKNOWN</c>, v2 <c>LOCAL</c>: health checks).
/// </summary>
internal sealed record ProxyHeader(IPEndPoint? Source, IPEndPoint? Destination)
{
    private const int V1MaxLength = 107;
    private const int V2MaxAddressBlock = 4096;
    private static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>
    /// Reads exactly the header from <paramref name="socket"/> (not one byte of what follows, which belongs to
    /// FTP or to a data transfer), within <paramref name="ct"/>.
    /// </summary>
    public static async Task<ProxyHeader> ReadAsync(Socket socket, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var start = new byte[16];
        await ReadExactlyAsync(socket, start.AsMemory(0, 6), ct);
        if (start.AsSpan(0, 6).SequenceEqual("PROXY "u8))
        {
            return ParseV1(await ReadV1LineAsync(socket, ct));
        }

        if (!start.AsSpan(0, 6).SequenceEqual(V2Signature.AsSpan(0, 6)))
        {
            throw new ProxyHeaderException("The connection did not start with a PROXY protocol header");
        }

        await ReadExactlyAsync(socket, start.AsMemory(6, 10), ct);
        if (!start.AsSpan(0, 12).SequenceEqual(V2Signature))
        {
            throw new ProxyHeaderException("Bad PROXY protocol v2 signature");
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(start.AsSpan(14, 2));
        if (length > V2MaxAddressBlock)
        {
            throw new ProxyHeaderException("PROXY protocol v2 header too long");
        }

        var block = new byte[length];
        await ReadExactlyAsync(socket, block, ct);
        return ParseV2(start[12], start[13], block);
    }

    /// <summary>Version 1: <c>PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n</c>, at most 107 bytes.</summary>
    internal static ProxyHeader ParseV1(string line)
    {
        var parts = line.Split(' ');
        if (parts is ["UNKNOWN", ..])
        {
            return new ProxyHeader(null, null);
        }

        if (parts.Length != 5 || parts[0] is not ("TCP4" or "TCP6"))
        {
            throw new ProxyHeaderException("Malformed PROXY protocol v1 header");
        }

        var family = parts[0] == "TCP4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        return new ProxyHeader(EndPoint(parts[1], parts[3], family), EndPoint(parts[2], parts[4], family));
    }

    /// <summary>
    /// An address exactly as the specification writes it: four decimal octets for TCP4 (IPAddress.TryParse also takes
    /// "1" as 0.0.0.1, octal and hex), hex groups for TCP6 (no zone, no brackets).
    /// </summary>
    private static bool WellFormed(string address, AddressFamily family) => family == AddressFamily.InterNetwork
        ? address.Split('.') is { Length: 4 } octets && octets.All(o => o.Length is >= 1 and <= 3 && o.All(char.IsAsciiDigit) && (o == "0" || o[0] != '0') && int.Parse(o, CultureInfo.InvariantCulture) <= 255)
        : address.Contains(':', StringComparison.Ordinal) && address.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.');

    private static IPEndPoint EndPoint(string address, string port, AddressFamily family) =>
        WellFormed(address, family) && IPAddress.TryParse(address, out var ip) && ip.AddressFamily == family
        && ushort.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
        && (port == "0" || port[0] != '0')
            ? new IPEndPoint(ip, number)
            : throw new ProxyHeaderException("Malformed address in a PROXY protocol v1 header");

    /// <summary>Version 2: binary; TLVs after the addresses are skipped.</summary>
    internal static ProxyHeader ParseV2(byte versionCommand, byte familyProtocol, ReadOnlySpan<byte> block)
    {
        if (versionCommand >> 4 != 2)
        {
            throw new ProxyHeaderException("Unsupported PROXY protocol version");
        }

        switch (versionCommand & 0x0F)
        {
            case 0x0: // LOCAL: the proxy's own connection (a health check); the addresses are the socket's.
                return new ProxyHeader(null, null);
            case 0x1:
                break;
            default:
                throw new ProxyHeaderException("Unsupported PROXY protocol v2 command");
        }

        switch (familyProtocol)
        {
            case 0x11 when block.Length >= 12: // TCP over IPv4
                return new ProxyHeader(
                    new IPEndPoint(new IPAddress(block[..4]), BinaryPrimitives.ReadUInt16BigEndian(block[8..])),
                    new IPEndPoint(new IPAddress(block[4..8]), BinaryPrimitives.ReadUInt16BigEndian(block[10..])));
            case 0x21 when block.Length >= 36: // TCP over IPv6
                return new ProxyHeader(
                    new IPEndPoint(new IPAddress(block[..16]), BinaryPrimitives.ReadUInt16BigEndian(block[32..])),
                    new IPEndPoint(new IPAddress(block[16..32]), BinaryPrimitives.ReadUInt16BigEndian(block[34..])));
            case 0x00: // UNSPEC: the proxy does not know; the socket's addresses apply.
                return new ProxyHeader(null, null);
            default:
                throw new ProxyHeaderException("Unsupported or truncated PROXY protocol v2 address block");
        }
    }

    /// <summary>The rest of a v1 line, byte by byte so that nothing after the CRLF is consumed.</summary>
    private static async Task<string> ReadV1LineAsync(Socket socket, CancellationToken ct)
    {
        var line = new byte[V1MaxLength - 6];
        var one = new byte[1];
        for (var length = 0; length < line.Length; length++)
        {
            await ReadExactlyAsync(socket, one, ct);
            line[length] = one[0];
            if (length > 0 && line[length - 1] == '\r' && one[0] == '\n')
            {
                return Encoding.ASCII.GetString(line, 0, length - 1);
            }
        }

        throw new ProxyHeaderException("PROXY protocol v1 header too long");
    }

    private static async Task ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (read == 0)
            {
                throw new ProxyHeaderException("The connection closed inside the PROXY protocol header");
            }

            buffer = buffer[read..];
        }
    }
}

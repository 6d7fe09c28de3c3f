using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// What a gateway sends first on a relayed connection: the passive port the client connected to, the client's end
/// point, when, a nonce, and an HMAC-SHA256 of all of it with the fleet's key. The owner takes the connection only
/// when the MAC is right, the time within <see cref="MaxSkew"/> of its own, the nonce new, and a transfer of its
/// own waits on that port. Binary: magic "FGWRELAY", version 1, port (2), family (1: 4 or 6), address (4 or 16),
/// client port (2), Unix time in ms (8), nonce (16), MAC (32); big-endian.
/// </summary>
internal static class RelayHeader
{
    public static readonly TimeSpan MaxSkew = TimeSpan.FromSeconds(30);

    private static readonly byte[] Magic = "FGWRELAY"u8.ToArray();
    private const int MacLength = 32;

    public static byte[] Create(byte[] key, int port, IPEndPoint client, DateTimeOffset now)
    {
        var address = Addresses.Normalize(client.Address).GetAddressBytes();
        var body = new byte[Magic.Length + 1 + 2 + 1 + address.Length + 2 + 8 + 16];
        var span = body.AsSpan();
        Magic.CopyTo(span);
        var at = Magic.Length;
        span[at++] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)port);
        at += 2;
        span[at++] = (byte)(address.Length == 4 ? 4 : 6);
        address.CopyTo(span[at..]);
        at += address.Length;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)client.Port);
        at += 2;
        BinaryPrimitives.WriteInt64BigEndian(span[at..], now.ToUnixTimeMilliseconds());
        at += 8;
        RandomNumberGenerator.Fill(span[at..(at + 16)]);
        return [.. body, .. HMACSHA256.HashData(key, body)];
    }

    /// <summary>Reads a header (exactly its bytes, nothing of the data after it) and checks its MAC and time.</summary>
    /// <exception cref="RelayRefusedException">not a relay header, a wrong MAC, a time too far off.</exception>
    public static async Task<(int Port, IPEndPoint Client, byte[] Nonce)> ReadAsync(Socket socket, byte[] key, DateTimeOffset now, CancellationToken ct)
    {
        var head = new byte[Magic.Length + 1 + 2 + 1];
        await ReadExactlyAsync(socket, head, ct);
        if (!head.AsSpan(0, Magic.Length).SequenceEqual(Magic) || head[Magic.Length] != 1 || head[^1] is not (4 or 6))
        {
            throw new RelayRefusedException("not a relay header");
        }

        var addressLength = head[^1] == 4 ? 4 : 16;
        var rest = new byte[addressLength + 2 + 8 + 16 + MacLength];
        await ReadExactlyAsync(socket, rest, ct);
        byte[] body = [.. head, .. rest.AsSpan(0, rest.Length - MacLength)];
        if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, body), rest.AsSpan(rest.Length - MacLength)))
        {
            throw new RelayRefusedException("a wrong MAC (another secret?)");
        }

        var at = 0;
        var address = new IPAddress(rest.AsSpan(at, addressLength));
        at += addressLength;
        var clientPort = BinaryPrimitives.ReadUInt16BigEndian(rest.AsSpan(at));
        at += 2;
        var sent = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(rest.AsSpan(at)));
        at += 8;
        if ((now - sent).Duration() > MaxSkew)
        {
            throw new RelayRefusedException($"sent at {sent:O}, {(now - sent).TotalSeconds:F0} s from this gateway's clock");
        }

        return (BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(Magic.Length + 1)), new IPEndPoint(address, clientPort), rest[at..(at + 16)]);
    }

    private static async Task ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (read == 0)
            {
                throw new RelayRefusedException("closed before the header was whole");
            }

            buffer = buffer[read..];
        }
    }
}

/// <summary>A relayed connection that is not taken (and is closed at once).</summary>
internal sealed class RelayRefusedException(string reason) : Exception(reason);

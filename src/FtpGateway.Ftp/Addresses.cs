using System.Net;

namespace FtpGateway.Ftp;

/// <summary>Client addresses as the gateway compares them.</summary>
internal static class Addresses
{
    /// <summary>IPv4-mapped IPv6 addresses (a dual-mode socket's view of an IPv4 client) as plain IPv4.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>
    /// The unit one client is counted by (bans, turns for password checks): an IPv4 address as is, an IPv6
    /// address by its /64 network, since one host usually owns a whole /64.
    /// </summary>
    public static IPAddress ClientKey(IPAddress address)
    {
        address = Normalize(address);
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}

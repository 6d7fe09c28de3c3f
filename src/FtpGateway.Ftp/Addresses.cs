using System.Net;

namespace FtpGateway.Ftp;

/// <summary>Client addresses as the gateway compares them.</summary>
internal static class Addresses
{
    /// <summary>IPv4-mapped IPv6 addresses (a dual-mode socket's view of an IPv4 client) as plain IPv4.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

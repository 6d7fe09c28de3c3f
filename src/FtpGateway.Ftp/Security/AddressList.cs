using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FtpGateway.Ftp.Security;

/// <summary>
/// A list of networks in CIDR notation (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>; a bare address is one host).
/// IPv4-mapped IPv6 addresses and networks (<c>::ffff:10.0.0.0/104</c>) count as IPv4, as clients of a
/// dual-mode socket do.
/// </summary>
internal sealed class AddressList
{
    private readonly IPNetwork[] _networks;

    private AddressList(IPNetwork[] networks) => _networks = networks;

    public static AddressList Empty { get; } = new([]);

    public bool IsEmpty => _networks.Length == 0;

    public int Count => _networks.Length;

    public bool Contains(IPAddress address)
    {
        var normalized = Addresses.Normalize(address);
        foreach (var network in _networks)
        {
            if (network.Contains(normalized))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses every entry; each entry that is not a network adds an error naming <paramref name="key"/>:N.</summary>
    public static AddressList Parse(IReadOnlyList<string>? entries, string key, ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (entries is null || entries.Count == 0)
        {
            return Empty;
        }

        var networks = new List<IPNetwork>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            if (TryParseNetwork(entries[i], out var network))
            {
                networks.Add(network);
            }
            else
            {
                errors.Add($"{key}:{i} '{entries[i]}' is not an address or a network in CIDR notation (10.0.0.0/8, 2001:db8::/32) without host bits");
            }
        }

        return new AddressList([.. networks]);
    }

    private static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address))
        {
            return false;
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            if (prefix < 96)
            {
                return false;
            }

            (address, prefix) = (address.MapToIPv4(), prefix - 96);
        }

        // Host bits set beyond the prefix (10.0.0.1/8) are most likely a typo for a narrower network: refused.
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        for (var bit = prefix; bit < length * 8; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                return false;
            }
        }

        network = new IPNetwork(address, prefix);
        return true;
    }
}

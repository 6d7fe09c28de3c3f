using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>Ftp:Relay parsed once: the key its headers are signed with, where peers are, the ports each owns.</summary>
/// <param name="Key">HMAC-SHA256 key, derived from Ftp:Relay:Secret.</param>
/// <param name="Port">where relayed connections are taken.</param>
/// <param name="Range">Ftp:PassivePortRange: the ports every gateway listens on.</param>
/// <param name="PortsPerReplica">Ftp:PassivePortsPerReplica: port p belongs to ordinal (p - start) / k.</param>
/// <param name="PeerAddresses">Ftp:Relay:PeerAddresses, by ordinal.</param>
/// <param name="PeerHost">Ftp:Relay:PeerHost, with <c>{ordinal}</c>.</param>
/// <param name="MaxConnections">Ftp:Relay:MaxConnections.</param>
internal sealed record RelaySettings(byte[] Key, int Port, PortRange Range, int PortsPerReplica, IReadOnlyList<IPAddress> PeerAddresses, string? PeerHost, int MaxConnections)
{
    /// <summary>The ordinal of the gateway that owns <paramref name="port"/> (which must lie in <see cref="Range"/>).</summary>
    public int OwnerOf(int port) => (port - Range.Start) / PortsPerReplica;

    /// <summary>The settings when Ftp:Relay:Enabled; each invalid key adds an error naming it.</summary>
    public static RelaySettings? Parse(FtpServerOptions o, PortRange? range, List<string> errors)
    {
        var relay = o.Relay;
        if (!relay.Enabled)
        {
            return null;
        }

        var before = errors.Count;
        if (o.PassivePortsPerReplica <= 0 || range is null)
        {
            errors.Add("Ftp:Relay:Enabled needs Ftp:PassivePortRange and Ftp:PassivePortsPerReplica (which gateway owns which port)");
        }

        if (string.IsNullOrEmpty(relay.Secret) || relay.Secret.Length < 16)
        {
            errors.Add("Ftp:Relay:Secret must be at least 16 characters, the same on every gateway");
        }

        if (relay.Port is < 1 or > 65535 || relay.Port == o.Port || relay.Port == o.Tls.ImplicitPort || range?.Contains(relay.Port) == true)
        {
            errors.Add($"Ftp:Relay:Port {relay.Port} must be a TCP port of its own (not Ftp:Port, Ftp:Tls:ImplicitPort or in Ftp:PassivePortRange)");
        }

        if (relay.MaxConnections < 1)
        {
            errors.Add("Ftp:Relay:MaxConnections must be at least 1");
        }

        var peers = new List<IPAddress>();
        for (var i = 0; i < relay.PeerAddresses.Count; i++)
        {
            if (IPAddress.TryParse(relay.PeerAddresses[i], out var address))
            {
                peers.Add(address);
            }
            else
            {
                errors.Add($"Ftp:Relay:PeerAddresses:{i} '{relay.PeerAddresses[i]}' is not an IP address");
            }
        }

        if (!string.IsNullOrWhiteSpace(relay.PeerHost)
            && (!relay.PeerHost.Contains("{ordinal}", StringComparison.Ordinal) || Uri.CheckHostName(relay.PeerHost.Replace("{ordinal}", "0", StringComparison.Ordinal)) != UriHostNameType.Dns))
        {
            errors.Add($"Ftp:Relay:PeerHost '{relay.PeerHost}' must be a DNS name with {{ordinal}} (the gateway's ordinal)");
        }

        if (relay.PeerAddresses.Count == 0 && string.IsNullOrWhiteSpace(relay.PeerHost))
        {
            errors.Add("Ftp:Relay:Enabled needs Ftp:Relay:PeerHost or Ftp:Relay:PeerAddresses (where the other gateways are)");
        }

        if (o.PublicAddresses.Count > 0)
        {
            errors.Add("Ftp:Relay:Enabled advertises one address for every gateway: set Ftp:PublicAddress or Ftp:PublicHost, not Ftp:PublicAddresses");
        }

        return errors.Count > before ? null : new RelaySettings(
            SHA256.HashData(Encoding.UTF8.GetBytes("ftpgateway relay\n" + relay.Secret)),
            relay.Port,
            range!.Value,
            o.PassivePortsPerReplica,
            peers,
            string.IsNullOrWhiteSpace(relay.PeerHost) ? null : relay.PeerHost,
            relay.MaxConnections);
    }
}

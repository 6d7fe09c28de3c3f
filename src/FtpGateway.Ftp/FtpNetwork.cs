using System.Net;

namespace FtpGateway.Ftp;

/// <summary>
/// The values of the <c>Ftp</c> section that need parsing, parsed once at start-up.
/// </summary>
/// <param name="ListenAddress">where the control port listens (every interface: IPv6Any, dual mode).</param>
/// <param name="PassiveRange">Ftp:PassivePortRange; null: any free port.</param>
/// <param name="OwnPassiveRange">the passive ports this replica owns: its slice of the range when several replicas share it.</param>
/// <param name="PublicAddress">the fixed address PASV advertises (Ftp:PublicAddress, or this replica's Ftp:PublicAddresses entry).</param>
/// <param name="TrustedProxies">Ftp:ProxyProtocol:TrustedProxies.</param>
/// <param name="Ordinal">this replica's ordinal (Ftp:Replica).</param>
internal sealed record FtpNetwork(IPAddress ListenAddress, PortRange? PassiveRange, PortRange? OwnPassiveRange, IPAddress? PublicAddress, Security.AddressList TrustedProxies, int Ordinal)
{
    /// <summary>Ftp:Relay, when enabled (then <see cref="PassiveRange"/> and Ftp:PassivePortsPerReplica are set).</summary>
    public Transfers.Relay.RelaySettings? Relay { get; init; }

    public static FtpNetwork Parse(FtpServerOptions o, List<string> errors)
    {
        var listen = IPAddress.IPv6Any;
        if (o.Port is < 0 or > 65535)
        {
            errors.Add($"Ftp:Port {o.Port} is not a TCP port");
        }

        if (!string.IsNullOrWhiteSpace(o.ListenAddress) && !IPAddress.TryParse(o.ListenAddress, out listen!))
        {
            errors.Add($"Ftp:ListenAddress '{o.ListenAddress}' is not an IP address");
        }

        IPAddress? publicAddress = null;
        if (!string.IsNullOrWhiteSpace(o.PublicAddress)
            && (!IPAddress.TryParse(o.PublicAddress, out publicAddress) || publicAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork))
        {
            errors.Add($"Ftp:PublicAddress '{o.PublicAddress}' must be an IPv4 address (PASV can only carry IPv4)");
        }

        var perReplicaAddresses = new List<IPAddress>();
        for (var i = 0; i < o.PublicAddresses.Count; i++)
        {
            if (!IPAddress.TryParse(o.PublicAddresses[i], out var each) || each.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            {
                errors.Add($"Ftp:PublicAddresses:{i} '{o.PublicAddresses[i]}' must be an IPv4 address");
            }
            else
            {
                perReplicaAddresses.Add(each);
            }
        }

        var ordinal = o.Ordinal;
        if (o.Replicas < 1 || ordinal < 0 || (ordinal >= o.Replicas && o.PassivePortsPerReplica <= 0))
        {
            errors.Add(o.PassivePortsPerReplica > 0
                ? $"Ftp:Replica '{o.Replica}' must end in an ordinal (a StatefulSet pod's name: ftp-gateway-2)"
                : $"Ftp:Replica '{o.Replica}' must end in an ordinal below Ftp:Replicas ({o.Replicas})");
        }

        if (o.PublicAddresses.Count > 0 && o.PublicAddresses.Count <= ordinal)
        {
            errors.Add($"Ftp:PublicAddresses has no entry for replica {ordinal}");
        }

        if (o.Replicas > 1 && string.IsNullOrWhiteSpace(o.PassivePortRange))
        {
            errors.Add("Ftp:Replicas above 1 needs Ftp:PassivePortRange (each replica owns a slice of it)");
        }

        if (!string.IsNullOrWhiteSpace(o.PublicHost) && Uri.CheckHostName(o.PublicHost.Replace("{ordinal}", "0", StringComparison.Ordinal)) != UriHostNameType.Dns)
        {
            errors.Add($"Ftp:PublicHost '{o.PublicHost}' must be a DNS name");
        }

        var range = PortRange.Parse(o.PassivePortRange, "Ftp:PassivePortRange", errors);
        if (o.Replicas > 1 && range is { } r && r.Count < o.Replicas)
        {
            errors.Add($"Ftp:PassivePortRange must hold at least one port per replica ({o.Replicas})");
        }

        var trusted = Security.AddressList.Parse(o.ProxyProtocol.TrustedProxies, "Ftp:ProxyProtocol:TrustedProxies", errors);
        var own = range;
        var perReplica = o.PassivePortsPerReplica;
        if (perReplica < 0)
        {
            errors.Add($"Ftp:PassivePortsPerReplica {perReplica} must not be negative (0: off)");
        }
        else if (perReplica > 0)
        {
            if (o.Replicas > 1)
            {
                errors.Add("Ftp:PassivePortsPerReplica and Ftp:Replicas divide the passive range in two different ways: set one");
            }
            else if (range is not { } all)
            {
                errors.Add("Ftp:PassivePortsPerReplica needs Ftp:PassivePortRange (the ports of every replica you will run)");
            }
            else if (ordinal >= 0 && (long)(ordinal + 1) * perReplica > all.Count)
            {
                errors.Add($"Ftp:PassivePortRange {all} holds {all.Count} ports: replica {ordinal} with Ftp:PassivePortsPerReplica {perReplica} needs {(long)(ordinal + 1) * perReplica}");
            }
            else if (ordinal >= 0)
            {
                own = new PortRange(all.Start + (ordinal * perReplica), all.Start + ((ordinal + 1) * perReplica) - 1);
            }
        }
        else if (range is { } whole && o.Replicas > 1 && ordinal >= 0 && ordinal < o.Replicas && whole.Count >= o.Replicas)
        {
            var size = whole.Count / o.Replicas;
            var start = whole.Start + (ordinal * size);
            own = new PortRange(start, ordinal == o.Replicas - 1 ? whole.End : start + size - 1);
        }

        var relay = Transfers.Relay.RelaySettings.Parse(o, range, errors);
        publicAddress ??= perReplicaAddresses.Count > ordinal && ordinal >= 0 ? perReplicaAddresses[ordinal] : null;
        return new FtpNetwork(listen ?? IPAddress.IPv6Any, range, own, publicAddress, trusted, ordinal) { Relay = relay };
    }
}

namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// Configuration section <c>Ftp:Relay</c>: several gateways behind one address. Every gateway listens on the
/// whole passive range; a data connection that arrives at a gateway which does not own its port
/// (<see cref="FtpServerOptions.PassivePortsPerReplica"/>) is passed to the owner, authenticated with the shared
/// <see cref="Secret"/>, with the client's address carried along.
/// </summary>
public sealed class FtpRelayOptions
{
    public bool Enabled { get; set; }

    /// <summary>The secret every gateway of the fleet shares (at least 16 characters): a relayed connection must prove it knows it.</summary>
    public string? Secret { get; set; }

    /// <summary>The port on which a gateway takes relayed connections from its peers (not for clients).</summary>
    public int Port { get; set; } = 2122;

    /// <summary>The address of the gateway with ordinal N, by N (fixed addresses).</summary>
    public List<string> PeerAddresses { get; set; } = [];

    /// <summary>A DNS name of the gateway with ordinal <c>{ordinal}</c> (a StatefulSet's headless Service: <c>ftp-{ordinal}.ftp-pods</c>).</summary>
    public string? PeerHost { get; set; }

    /// <summary>Relayed connections at once, each way; beyond it a connection is closed.</summary>
    public int MaxConnections { get; set; } = 1000;
}

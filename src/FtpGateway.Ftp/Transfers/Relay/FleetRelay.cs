namespace FtpGateway.Ftp.Transfers.Relay;

/// <summary>
/// Ftp:Relay on one gateway: the relay port where peers bring this gateway's data connections
/// (<see cref="RelayReceiver"/>), and the other gateways' passive ports, passed on to them (<see cref="PortRelay"/>).
/// </summary>
internal sealed class FleetRelay : IAsyncDisposable
{
    private readonly RelayReceiver _receiver;
    private readonly PortRelay _ports;

    private FleetRelay(FtpServerContext server, RelaySettings settings, Func<System.Net.IPAddress, bool> refused)
    {
        var logger = server.LoggerFactory.CreateLogger("FtpGateway.Ftp.Relay");
        _receiver = new RelayReceiver(server, settings, logger);
        _ports = new PortRelay(server, settings, new PeerDirectory(settings, server.Time), refused, logger);
    }

    /// <summary>Relays in progress from this gateway to others.</summary>
    internal int ActiveRelays => _ports.Active;

    /// <summary>
    /// Listens, when Ftp:Relay is enabled; null otherwise. A port in use stops the start, naming its key. A client
    /// <paramref name="refused"/> (banned, or outside the address rules) is not relayed.
    /// </summary>
    public static FleetRelay? Start(FtpServerContext server, Func<System.Net.IPAddress, bool> refused)
    {
        if (server.Options.Network is not { Relay: { } settings, OwnPassiveRange: { } own, ListenAddress: var address })
        {
            return null;
        }

        var relay = new FleetRelay(server, settings, refused);
        server.Telemetry.StartRelayAtZero();
        relay._receiver.Start(address);
        relay._ports.Start(address, own);
        return relay;
    }

    /// <summary>A drain: other gateways' new data connections go to the gateways that stay; this gateway's own still arrive.</summary>
    public void StopRelayingForOthers() => _ports.Close();

    public async ValueTask DisposeAsync()
    {
        await _ports.DisposeAsync();
        await _receiver.DisposeAsync();
    }
}

using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Sessions;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Security;

/// <summary>Why a control connection was refused before its greeting.</summary>
internal enum RefusalReason
{
    /// <summary>Security:DeniedAddresses holds the address, or Security:AllowedAddresses does not.</summary>
    AddressRule,

    /// <summary>The address is banned after too many failed logins.</summary>
    Banned,

    /// <summary>Ftp:MaxSessions sessions run already.</summary>
    SessionLimit,

    /// <summary>The client holds Ftp:MaxSessionsPerAddress sessions already.</summary>
    AddressLimit,
}

/// <summary>A refusal: its reason, the 421 text, and how it is counted and logged.</summary>
internal readonly record struct Refusal(RefusalReason Reason)
{
    /// <summary>The value of the <c>ftp.refusal</c> attribute of <c>ftpgateway.connections.refused</c>.</summary>
    public string Name => Reason switch
    {
        RefusalReason.AddressRule => "address_rule",
        RefusalReason.Banned => "banned",
        RefusalReason.SessionLimit => "session_limit",
        _ => "address_limit",
    };

    public string Text => Reason switch
    {
        RefusalReason.AddressRule => "Your address may not connect to this server.",
        RefusalReason.Banned => "Your address is banned after too many failed logins; try again later.",
        RefusalReason.SessionLimit => "Too many connections; try again later.",
        _ => "Too many connections from your address; try again later.",
    };

    /// <summary>A limit reached is worth a Warning; a banned scanner or a denied address retries for ever (Debug).</summary>
    public bool Loud => Reason is RefusalReason.SessionLimit or RefusalReason.AddressLimit;
}

/// <summary>
/// Whether a client may open a session: the address rules, then bans, then the session limits. Only a client
/// that passes takes a session slot (<see cref="SessionRegistry.TryTakeSlotAsync"/>).
/// </summary>
internal sealed class ConnectionAdmission((AddressList Allowed, AddressList Denied) addresses, FtpServerContext server, SessionRegistry sessions, ILogger logger)
{
    private readonly AddressList _allowed = addresses.Allowed;
    private readonly AddressList _denied = addresses.Denied;
    private readonly BanList _bans = server.Bans;
    private readonly FtpServerOptions _options = server.Options;

    /// <summary>
    /// Null: admitted, holding a slot of the client's for session <paramref name="sessionId"/> (released when its
    /// session ends) and a reserved place among Ftp:MaxSessions (taken over by <see cref="SessionRegistry.Start"/>);
    /// else why not.
    /// </summary>
    public async ValueTask<Refusal?> TryAdmitAsync(IPAddress address, string sessionId, CancellationToken ct)
    {
        if (BreaksAddressRules(address))
        {
            return new Refusal(RefusalReason.AddressRule);
        }

        if (_bans.IsBanned(address))
        {
            return new Refusal(RefusalReason.Banned);
        }

        if (!sessions.TryReserve(_options.MaxSessions))
        {
            return new Refusal(RefusalReason.SessionLimit);
        }

        try
        {
            if (await sessions.TryTakeSlotAsync(address, sessionId, _options.MaxSessionsPerAddress, ct))
            {
                return null; // the reservation ends when the session starts
            }
        }
        catch
        {
            sessions.CancelReservation();
            throw;
        }

        sessions.CancelReservation();
        return new Refusal(RefusalReason.AddressLimit);
    }

    /// <summary>True when the address rules or a ban refuse <paramref name="address"/> (a data connection to relay).</summary>
    public bool RefusesAddress(IPAddress address) => BreaksAddressRules(address) || _bans.IsBanned(address);

    /// <summary>Security:DeniedAddresses holds the address, or Security:AllowedAddresses (when set) does not.</summary>
    private bool BreaksAddressRules(IPAddress address) => _denied.Contains(address) || (!_allowed.IsEmpty && !_allowed.Contains(address));

    /// <summary>Counts and logs the refusal, then answers 421 and closes (the implicit-TLS port just closes).</summary>
    public void Refuse(ClientConnection connection, IPAddress address, Refusal refusal)
    {
        server.Telemetry.RefusedConnections.Add(1, new KeyValuePair<string, object?>("ftp.refusal", refusal.Name));
        if (refusal.Loud)
        {
            Log.ConnectionRefused(logger, address, refusal.Text);
        }
        else
        {
            Log.ConnectionRefusedQuietly(logger, address, refusal.Text); // one line per ban is enough; a banned scanner retries for ever
        }

        _ = RefuseAsync(connection.Socket, connection.ImplicitTls ? null : refusal.Text);
    }

    /// <summary>
    /// RFC 959 §4.2: 421 may be sent in reply to the connection itself. On the implicit-TLS port the client
    /// expects a handshake, not text: the connection just closes.
    /// </summary>
    private static async Task RefuseAsync(Socket socket, string? reason)
    {
        using (socket)
        {
            try
            {
                if (reason is null)
                {
                    socket.Shutdown(SocketShutdown.Both);
                    return;
                }

                await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"421 {reason}\r\n"));
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }
        }
    }
}

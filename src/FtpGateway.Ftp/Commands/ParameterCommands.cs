using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Transfers;

namespace FtpGateway.Ftp.Commands;

/// <summary>Transfer parameters (RFC 959 §4.1.2, RFC 2428): PORT, EPRT, PASV, EPSV, TYPE, STRU, MODE, REST, ALLO.</summary>
internal static class ParameterCommands
{
    private static readonly FtpReply EpsvAllInEffect = FtpReply.Of(ReplyCodes.BadSequence, "EPSV ALL is in effect; only EPSV is accepted.");
    private static readonly FtpReply NoPassivePort = FtpReply.Of(ReplyCodes.CantOpenDataConnection, "No passive port is free; try again later.");

    public static FtpReply Port(SessionContext s, string argument)
    {
        if (ActiveModeRefused(s) is { } refused)
        {
            return refused;
        }

        var parts = argument.Split(',', StringSplitOptions.TrimEntries);
        var numbers = new byte[6];
        if (parts.Length != 6 || !parts.Select((p, i) => byte.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i])).All(ok => ok))
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Syntax: PORT h1,h2,h3,h4,p1,p2");
        }

        return SetActiveTarget(s, new IPEndPoint(new IPAddress(numbers.AsSpan(0, 4)), (numbers[4] << 8) | numbers[5]));
    }

    public static FtpReply Eprt(SessionContext s, string argument)
    {
        if (ActiveModeRefused(s) is { } refused)
        {
            return refused;
        }

        // RFC 2428 §2: <d><net-prt><d><net-addr><d><tcp-port><d>, the delimiter being the first character.
        var parts = argument.Split(argument[0]);
        if (parts.Length != 5 || parts[0].Length != 0 || parts[4].Length != 0
            || !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Syntax: EPRT |proto|address|port|");
        }

        var family = parts[1] switch { "1" => AddressFamily.InterNetwork, "2" => AddressFamily.InterNetworkV6, _ => AddressFamily.Unknown };
        if (family == AddressFamily.Unknown)
        {
            return FtpReply.Of(ReplyCodes.NetworkProtocolNotSupported, "Network protocol not supported, use (1,2)");
        }

        return IPAddress.TryParse(parts[2], out var address) && address.AddressFamily == family
            ? SetActiveTarget(s, new IPEndPoint(address, port))
            : FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Invalid EPRT address.");
    }

    private static FtpReply? ActiveModeRefused(SessionContext s) =>
        !s.Options.AllowActiveMode ? FtpReply.Of(ReplyCodes.NotImplemented, "Active mode is disabled on this server; use PASV or EPSV.")
        : s.Parameters.EpsvAll ? EpsvAllInEffect
        : null;

    /// <summary>RFC 2577 §3: connect only to the client's own address, and never to a privileged port.</summary>
    private static FtpReply SetActiveTarget(SessionContext s, IPEndPoint target)
    {
        var address = Addresses.Normalize(target.Address);
        if (!address.Equals(s.ClientAddress) || target.Port < 1024)
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Data connections go only to your own address and to ports 1024 and above.");
        }

        s.Parameters.SetPendingData(new ActiveDataChannel(new IPEndPoint(address, target.Port), s.Server.Time));
        return FtpReply.Of(ReplyCodes.Okay, "PORT command successful.");
    }

    public static FtpReply Pasv(SessionContext s, string argument)
    {
        if (s.Parameters.EpsvAll)
        {
            return EpsvAllInEffect;
        }

        var local = Addresses.Normalize(s.LocalEndPoint.Address);
        var advertised = s.Server.PublicAddress ?? s.AdvertisedAddress ?? local;
        if (advertised.AddressFamily != AddressFamily.InterNetwork)
        {
            return FtpReply.Of(ReplyCodes.CantOpenDataConnection, "PASV cannot describe an IPv6 address; use EPSV.");
        }

        if (OpenPassive(s, local) is not { } port)
        {
            return NoPassivePort;
        }

        var a = advertised.GetAddressBytes();
        return FtpReply.Of(
            ReplyCodes.EnteringPassive,
            string.Create(CultureInfo.InvariantCulture, $"Entering Passive Mode ({a[0]},{a[1]},{a[2]},{a[3]},{port >> 8},{port & 0xFF})."));
    }

    public static FtpReply Epsv(SessionContext s, string argument)
    {
        if (!s.Options.AllowEpsv)
        {
            return FtpReply.Of(ReplyCodes.NotImplemented, "EPSV is not available here; use PASV.");
        }

        var local = Addresses.Normalize(s.LocalEndPoint.Address);
        var family = local.AddressFamily == AddressFamily.InterNetwork ? "1" : "2";
        var arg = argument.Trim();
        if (arg.Equals("ALL", StringComparison.OrdinalIgnoreCase))
        {
            s.Parameters.EpsvAll = true;
            return FtpReply.Of(ReplyCodes.Okay, "EPSV ALL ok.");
        }

        if (arg.Length > 0 && arg != family)
        {
            return FtpReply.Of(
                arg is "1" or "2" ? ReplyCodes.NetworkProtocolNotSupported : ReplyCodes.SyntaxErrorInParameters,
                $"Network protocol not supported, use ({family})");
        }

        return OpenPassive(s, local) is { } port
            ? FtpReply.Of(ReplyCodes.EnteringExtendedPassive, $"Entering Extended Passive Mode (|||{port}|)")
            : NoPassivePort;
    }

    /// <summary>Listens on a passive port for this session's next transfer; null when none is free.</summary>
    private static int? OpenPassive(SessionContext s, IPAddress local)
    {
        s.Parameters.SetPendingData(null);
        var listener = s.Server.PassivePorts.Listen(local);
        if (listener is null)
        {
            return null;
        }

        var channel = new PassiveDataChannel(listener, s.Server, s.Options.RequireSameDataPeer ? s.ClientAddress : null);
        s.Parameters.SetPendingData(channel);
        return channel.Port;
    }

    public static FtpReply Type(SessionContext s, string argument)
    {
        switch (argument.ToUpperInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            case ["A"] or ["A", "N"]:
                s.Parameters.Ascii = true;
                return FtpReply.Of(ReplyCodes.Okay, "Type set to A.");
            case ["I"] or ["L", "8"]:
                s.Parameters.Ascii = false;
                return FtpReply.Of(ReplyCodes.Okay, "Type set to I.");
            case ["A", "T" or "C"] or ["E"] or ["E", _] or ["L", _]:
                return FtpReply.Of(ReplyCodes.NotImplementedForParameter, "Only TYPE A (non-print), I and L 8 are supported.");
            default:
                return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Syntax: TYPE {A [N]|I|L 8}");
        }
    }

    public static FtpReply Stru(SessionContext s, string argument) => argument.Trim().ToUpperInvariant() switch
    {
        "F" => FtpReply.Of(ReplyCodes.Okay, "Structure set to F."),
        "R" or "P" => FtpReply.Of(ReplyCodes.NotImplementedForParameter, "Only file structure (STRU F) is supported."),
        _ => FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Syntax: STRU F"),
    };

    public static FtpReply Mode(SessionContext s, string argument) => argument.Trim().ToUpperInvariant() switch
    {
        "S" => FtpReply.Of(ReplyCodes.Okay, "Mode set to S."),
        "B" or "C" => FtpReply.Of(ReplyCodes.NotImplementedForParameter, "Only stream mode (MODE S) is supported."),
        _ => FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Syntax: MODE S"),
    };

    public static FtpReply Rest(SessionContext s, string argument)
    {
        if (!long.TryParse(argument.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "REST takes a non-negative byte offset.");
        }

        // Accepted in every TYPE: dataloggers send TYPE A then REST 0.
        s.Parameters.RestOffset = offset;
        return FtpReply.Of(ReplyCodes.PendingFurtherInformation, $"Restarting at {offset}. Send STOR, APPE or RETR to start the transfer.");
    }

    /// <summary>
    /// RFC 959 allows 200 or 202. Some IP cameras (Dahua) take 202 for a refusal and retry for ever, so the answer
    /// is 200: nothing needs allocating, and the upload that follows is checked against the user's limits anyway.
    /// </summary>
    public static FtpReply Allo(SessionContext s, string argument) =>
        FtpReply.Of(ReplyCodes.Okay, "ALLO command successful; no storage allocation necessary.");
}

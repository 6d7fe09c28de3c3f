using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;

namespace FtpGateway.Ftp.Commands;

/// <summary>Security (RFC 2228, RFC 4217): AUTH TLS, PBSZ, PROT.</summary>
internal static class TlsCommands
{
    /// <summary>234, then the session runs the handshake (RFC 4217 §4); a new security context starts a new login.</summary>
    public static FtpReply Auth(SessionContext s, string argument)
    {
        if (s.Server.Certificate is null)
        {
            return FtpReply.Of(ReplyCodes.NotImplemented, "TLS is not configured on this server.");
        }

        if (s.Tls.Active)
        {
            return FtpReply.Of(ReplyCodes.BadSequence, "The control connection is already secured.");
        }

        return argument.Trim().ToUpperInvariant() is "TLS" or "TLS-C" or "SSL"
            ? FtpReply.StartingTls("AUTH TLS successful.")
            : FtpReply.Of(ReplyCodes.NotImplementedForParameter, "Only AUTH TLS is supported.");
    }

    public static FtpReply Pbsz(SessionContext s, string argument)
    {
        if (!s.Tls.Active)
        {
            return FtpReply.Of(ReplyCodes.BadSequence, "PBSZ needs AUTH TLS first.");
        }

        s.Tls.BufferSizeSet = true;
        return FtpReply.Of(ReplyCodes.Okay, "PBSZ=0");
    }

    public static FtpReply Prot(SessionContext s, string argument)
    {
        if (!s.Tls.Active || !s.Tls.BufferSizeSet)
        {
            return FtpReply.Of(ReplyCodes.BadSequence, "PROT needs AUTH TLS and PBSZ first.");
        }

        switch (argument.Trim().ToUpperInvariant())
        {
            case "P":
                s.Tls.ProtectData = true;
                return FtpReply.Of(ReplyCodes.Okay, "Data protection level set to private.");
            case "C" when s.Options.Tls.Required || s.Login.User?.RequireTls == true:
                return FtpReply.Of(ReplyCodes.ProtectionLevelDenied, "This server requires PROT P.");
            case "C":
                s.Tls.ProtectData = false;
                return FtpReply.Of(ReplyCodes.Okay, "Data protection level set to clear.");
            case "S" or "E":
                return FtpReply.Of(ReplyCodes.ProtectionLevelNotSupported, "Only PROT C and P are supported.");
            default:
                return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Syntax: PROT {C|P}");
        }
    }
}

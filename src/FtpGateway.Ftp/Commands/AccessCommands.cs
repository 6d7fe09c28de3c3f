using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Users;

namespace FtpGateway.Ftp.Commands;

/// <summary>Access control (RFC 959 §4.1.1): USER, PASS, ACCT, REIN, QUIT.</summary>
internal static class AccessCommands
{
    private static readonly FtpReply BannedReply =
        FtpReply.Closing(ReplyCodes.ServiceNotAvailable, "Your address is banned after too many failed logins; closing connection.", SessionEndReason.Banned);

    public static FtpReply User(SessionContext s, string argument)
    {
        if (s.Server.Bans.IsBanned(s.ClientAddress))
        {
            return BannedReply;
        }

        if (s.Options.Tls.Required && !s.Tls.Active)
        {
            return FtpReply.Of(ReplyCodes.NotLoggedIn, "This server requires TLS: send AUTH TLS first.");
        }

        ResetLogin(s);
        s.Login.PendingUser = argument;
        return FtpReply.Of(
            ReplyCodes.NeedPassword,
            UserDirectory.IsAnonymousName(argument) && s.Server.Users.Current.AnonymousEnabled
                ? "Anonymous login ok, send your e-mail address as password."
                : "Password required.");
    }

    public static async ValueTask<FtpReply> Pass(SessionContext s, string argument, CancellationToken ct)
    {
        if (s.Login.PendingUser is not { } name)
        {
            return FtpReply.Of(ReplyCodes.BadSequence, s.Login.User is null ? "Log in with USER first." : "Already logged in.");
        }

        s.Login.PendingUser = null;
        var result = await s.Server.Authenticator.LogInAsync(name, argument, s.ClientAddress, s.Tls.Active, s.Id, s.Logger, ct);
        if (result.Outcome is LoginOutcome.Incorrect or LoginOutcome.IncorrectAndBanned)
        {
            s.Login.Failures++;
        }

        switch (result.Outcome)
        {
            case LoginOutcome.Banned or LoginOutcome.IncorrectAndBanned:
                return BannedReply;
            case LoginOutcome.Incorrect:
                return s.Login.Failures >= s.Options.MaxLoginFailures
                    ? FtpReply.Closing(ReplyCodes.ServiceNotAvailable, "Too many failed logins; closing connection.", SessionEndReason.TooManyLoginFailures)
                    : FtpReply.Of(ReplyCodes.NotLoggedIn, "Login incorrect.");
            case LoginOutcome.HookUnavailable:
                return FtpReply.Closing(ReplyCodes.ServiceNotAvailable, "Authentication is unavailable; try again later.", SessionEndReason.ProtocolError);
            case LoginOutcome.TlsRequired:
                return FtpReply.Of(ReplyCodes.NotLoggedIn, "This user must use TLS: send AUTH TLS first (or use implicit FTPS).");
            case LoginOutcome.StorageUnavailable:
                return FtpReply.Closing(ReplyCodes.ServiceNotAvailable, "Your storage is not available; try again later.", SessionEndReason.ProtocolError);
            case LoginOutcome.TooManySessions:
                return FtpReply.Closing(ReplyCodes.ServiceNotAvailable, $"Too many sessions for user {result.User!.Name}; try again later.", SessionEndReason.UserSessionLimit);
        }

        var user = result.User!;
        s.Storage = result.Storage!;
        s.Login.User = user;
        if (!s.Server.Users.Current.IsCurrent(user))
        {
            // The users file changed while this login was checked (the reload's close did not see it): not logged in.
            ResetLogin(s);
            return FtpReply.Of(ReplyCodes.NotLoggedIn, "Login incorrect.");
        }

        s.Navigation.Reset();
        s.SessionActivity?.SetTag("enduser.id", user.Name);
        Log.LoggedIn(s.Logger, user.Name);
        s.Server.Fleet?.Touch(s.Id); // the registry shows the user from now on
        s.Server.UserRecords.LoggedIn(user.Name);
        return FtpReply.Of(ReplyCodes.LoggedIn, "User logged in, proceed.");
    }

    public static FtpReply Acct(SessionContext s, string argument) => FtpReply.Of(ReplyCodes.Superfluous, "ACCT not needed.");

    public static FtpReply Rein(SessionContext s, string argument)
    {
        ResetLogin(s);
        s.Parameters.Reset();
        return FtpReply.Of(ReplyCodes.ServiceReady, "Service ready for new user.");
    }

    public static FtpReply Quit(SessionContext s, string argument) =>
        FtpReply.Closing(ReplyCodes.ClosingControl, "Goodbye.", SessionEndReason.ClientQuit);

    /// <summary>USER, REIN and a new TLS context (RFC 4217 §4) start a new login.</summary>
    public static void ResetLogin(SessionContext s)
    {
        // Ftp:LoginTimeout counts again from the end of a login, never from a USER or REIN that did not log in:
        // a client cannot keep a connection that never logs in alive by repeating them.
        if (s.Login.User is { } user)
        {
            s.Login.StartedAt = s.Server.Time.GetTimestamp();
            s.Server.UserSessions.Leave(user, s.Id);
        }

        s.Login.Reset();
        s.Storage = s.Server.Storage;
        s.Navigation.Reset();
        s.Parameters.RenameFrom = null;
    }
}

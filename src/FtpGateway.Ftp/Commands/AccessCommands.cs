using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;

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
        var bans = s.Server.Bans;
        if (bans.IsBanned(s.ClientAddress))
        {
            return BannedReply; // an open session of a banned address: no password check, no answer to it
        }

        var started = s.Server.Time.GetTimestamp();
        FtpUser? user;
        if (s.Server.AuthHook is { } hook && !s.Server.Users.Current.Defines(name))
        {
            // Not a user of the configuration or the users file: the HTTP hook decides.
            var (verdict, answer) = await hook.AuthenticateAsync(name, argument, s.ClientAddress, s.Tls.Active, () => !bans.IsBanned(s.ClientAddress), ct);
            if (verdict == HookVerdict.Skipped || bans.IsBanned(s.ClientAddress))
            {
                return BannedReply; // banned while the request waited its turn, or while the hook was asked
            }

            if (verdict == HookVerdict.Unavailable)
            {
                return FtpReply.Closing(ReplyCodes.ServiceNotAvailable, "Authentication is unavailable; try again later.", SessionEndReason.ProtocolError);
            }

            user = answer is not null && (answer.AllowedAddresses.IsEmpty || answer.AllowedAddresses.Contains(s.ClientAddress)) ? answer : null;
        }
        else
        {
            var (checkedUser, checkedPassword) = await s.Server.PasswordChecks.RunAsync(
                s.ClientAddress,
                () => (s.Server.Users.Current.Authenticate(name, argument, s.ClientAddress), true),
                () => !bans.IsBanned(s.ClientAddress),
                ((FtpUser?)null, false),
                ct);
            if (!checkedPassword)
            {
                return BannedReply; // banned while this check waited its turn: skipped, and not a failure of its own
            }

            user = checkedUser;
        }

        if (user is null)
        {
            s.Login.Failures++;
            s.Server.Telemetry.LoginFailures.Add(1);
            Log.LoginFailed(s.Logger, LogText.Sanitize(name));
            var banned = bans.RecordFailure(s.ClientAddress) != FailureOutcome.Counted;

            // The delay is a floor from the moment PASS arrived, not an addition: it also hides how long the check took.
            var remaining = s.Options.LoginFailureDelay - s.Server.Time.GetElapsedTime(started);
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining, s.Server.Time, ct);
            }

            return banned ? BannedReply
                : s.Login.Failures >= s.Options.MaxLoginFailures
                ? FtpReply.Closing(ReplyCodes.ServiceNotAvailable, "Too many failed logins; closing connection.", SessionEndReason.TooManyLoginFailures)
                : FtpReply.Of(ReplyCodes.NotLoggedIn, "Login incorrect.");
        }

        if (user.RequireTls && !s.Tls.Active)
        {
            // Checked after the password, as the same 530 would be before it: the user must log in over TLS.
            return FtpReply.Of(ReplyCodes.NotLoggedIn, "This user must use TLS: send AUTH TLS first (or use implicit FTPS).");
        }

        if (!s.Server.Targets.TryGetValue(user.StorageTarget ?? StorageTargets.Default, out var storage))
        {
            // Only the HTTP hook can name a target that does not exist (the users file is checked when it loads).
            Log.UnknownStorageTarget(s.Logger, user.Name, LogText.Sanitize(user.StorageTarget ?? string.Empty));
            return FtpReply.Closing(ReplyCodes.ServiceNotAvailable, "Your storage is not available; try again later.", SessionEndReason.ProtocolError);
        }

        if (!s.Server.UserSessions.TryEnter(user))
        {
            return FtpReply.Closing(ReplyCodes.ServiceNotAvailable, $"Too many sessions for user {user.Name}; try again later.", SessionEndReason.UserSessionLimit);
        }

        try
        {
            await EnsureRootExistsAsync(storage, user.Root, ct);
        }
        catch
        {
            s.Server.UserSessions.Leave(user);
            throw;
        }

        s.Storage = storage.ForRoot(user.Root);
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
            s.Server.UserSessions.Leave(user);
        }

        s.Login.Reset();
        s.Storage = s.Server.Storage;
        s.Navigation.Reset();
        s.Parameters.RenameFrom = null;
    }

    /// <summary>A user's root is created at first login, one level at a time (as MKD would).</summary>
    private static async Task EnsureRootExistsAsync(IStorageProvider storage, StoragePath root, CancellationToken ct)
    {
        var path = StoragePath.Root;
        foreach (var segment in root.Segments)
        {
            path = path.Child(segment);
            if (await storage.GetEntryAsync(path, ct) is null)
            {
                try
                {
                    await storage.CreateDirectoryAsync(path, ct);
                }
                catch (StorageException ex) when (ex.Kind == StorageErrorKind.AlreadyExists)
                {
                    // Another session created it first.
                }
            }
        }
    }
}

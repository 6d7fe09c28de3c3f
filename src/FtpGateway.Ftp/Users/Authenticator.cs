using System.Net;
using FtpGateway.Ftp.Security;
using FtpGateway.Storage;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Users;

/// <summary>How a login attempt ended.</summary>
internal enum LoginOutcome
{
    /// <summary>The user is in: a session slot of the user's is taken and the root exists.</summary>
    LoggedIn,

    /// <summary>Wrong name or password (or an address the user may not log in from); counted, delayed.</summary>
    Incorrect,

    /// <summary>Wrong, and this failure banned the address.</summary>
    IncorrectAndBanned,

    /// <summary>The address is banned (before, or while the attempt waited its turn): nothing was checked.</summary>
    Banned,

    /// <summary>The authentication hook could not decide.</summary>
    HookUnavailable,

    /// <summary>The user must log in over TLS.</summary>
    TlsRequired,

    /// <summary>The user names a storage target that is not configured (only a hook's answer can).</summary>
    StorageUnavailable,

    /// <summary>The user has MaxSessions sessions already.</summary>
    TooManySessions,
}

/// <summary>A login attempt's outcome; when logged in, the user and the storage (the user's target) the session is to use.</summary>
internal sealed record LoginResult(LoginOutcome Outcome, FtpUser? User = null, IStorageProvider? Storage = null);

/// <summary>
/// Who may log in: the password of a configured user (checked in turn per client, bounded across the server) or
/// the HTTP hook's answer for anyone else; a failure counted toward a ban and answered no sooner than
/// Ftp:LoginFailureDelay after it arrived; then the user's TLS requirement, storage target, session limit and
/// root, which is created at the first login.
/// </summary>
internal sealed class Authenticator(FtpServerContext server)
{
    public async ValueTask<LoginResult> LogInAsync(string name, string password, IPAddress client, bool tls, string sessionId, ILogger logger, CancellationToken ct)
    {
        var bans = server.Bans;
        if (bans.IsBanned(client))
        {
            return new LoginResult(LoginOutcome.Banned); // an open session of a banned address: no password check, no answer to it
        }

        var started = server.Time.GetTimestamp();
        var (outcome, user) = server.AuthHook is { } hook && !server.Users.Current.Defines(name)
            ? await AskHookAsync(hook, name, password, client, tls, ct)
            : await CheckPasswordAsync(name, password, client, ct);
        if (outcome is not null)
        {
            return new LoginResult(outcome.Value);
        }

        if (user is null)
        {
            server.Telemetry.LoginFailures.Add(1);
            Log.LoginFailed(logger, LogText.Sanitize(name));
            var banned = await server.FleetBans.RecordFailureAsync(client, ct) != FailureOutcome.Counted;

            // The delay is a floor from the moment PASS arrived, not an addition: it also hides how long the check took.
            var remaining = server.Options.LoginFailureDelay - server.Time.GetElapsedTime(started);
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining, server.Time, ct);
            }

            return new LoginResult(banned ? LoginOutcome.IncorrectAndBanned : LoginOutcome.Incorrect);
        }

        if (user.RequireTls && !tls)
        {
            return new LoginResult(LoginOutcome.TlsRequired); // after the password, as the same 530 would be before it
        }

        if (!server.Targets.TryGetValue(user.StorageTarget ?? StorageTargets.Default, out var storage))
        {
            Log.UnknownStorageTarget(logger, user.Name, LogText.Sanitize(user.StorageTarget ?? string.Empty));
            return new LoginResult(LoginOutcome.StorageUnavailable);
        }

        if (!await server.UserSessions.TryEnterAsync(user, sessionId, ct))
        {
            return new LoginResult(LoginOutcome.TooManySessions, user);
        }

        try
        {
            await EnsureRootExistsAsync(storage, user.Root, ct);
        }
        catch
        {
            server.UserSessions.Leave(user, sessionId);
            throw;
        }

        return new LoginResult(LoginOutcome.LoggedIn, user, storage.ForRoot(user.Root));
    }

    /// <summary>Not a user of the configuration or the users file: the HTTP hook decides.</summary>
    private async Task<(LoginOutcome?, FtpUser?)> AskHookAsync(HttpAuthHook hook, string name, string password, IPAddress client, bool tls, CancellationToken ct)
    {
        var (verdict, answer) = await hook.AuthenticateAsync(name, password, client, tls, () => !server.Bans.IsBanned(client), ct);
        if (verdict == HookVerdict.Skipped || server.Bans.IsBanned(client))
        {
            return (LoginOutcome.Banned, null); // banned while the request waited its turn, or while the hook was asked
        }

        return verdict == HookVerdict.Unavailable
            ? (LoginOutcome.HookUnavailable, null)
            : (null, answer is not null && (answer.AllowedAddresses.IsEmpty || answer.AllowedAddresses.Contains(client)) ? answer : null);
    }

    private async Task<(LoginOutcome?, FtpUser?)> CheckPasswordAsync(string name, string password, IPAddress client, CancellationToken ct)
    {
        var (user, checkedPassword) = await server.PasswordChecks.RunAsync(
            client,
            () => (server.Users.Current.Authenticate(name, password, client), true),
            () => !server.Bans.IsBanned(client),
            ((FtpUser?)null, false),
            ct);

        // Banned while this check waited its turn: skipped, and not a failure of its own.
        return checkedPassword ? (null, user) : (LoginOutcome.Banned, null);
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

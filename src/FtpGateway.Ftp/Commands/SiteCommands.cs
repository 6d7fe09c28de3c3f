using System.Globalization;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>
/// SITE commands (RFC 959 §4.1.3 leaves them to the server) that real clients send: CHMOD (lftp's mirror,
/// ftputil), IDLE (wu-ftpd, ProFTPD), UTIME (two forms: ProFTPD's and wu-ftpd's/Pure-FTPd's), HELP.
/// </summary>
internal static class SiteCommands
{
    private static readonly TimeSpan MinimumIdle = TimeSpan.FromSeconds(30);

    public static async ValueTask<FtpReply> Site(SessionContext s, string argument, CancellationToken ct)
    {
        var parts = argument.Trim().Split(' ', 2, StringSplitOptions.TrimEntries);
        var rest = parts.Length > 1 ? parts[1] : string.Empty;
        return parts[0].ToUpperInvariant() switch
        {
            "HELP" => FtpReply.Multiline(ReplyCodes.Help, ["SITE commands recognized:", "CHMOD IDLE UTIME HELP", "End of SITE help."]),
            "CHMOD" => await ChmodAsync(s, rest, ct),
            "IDLE" => Idle(s, rest),
            "UTIME" => await UtimeAsync(s, rest, ct),
            _ => FtpReply.Of(ReplyCodes.NotImplementedForParameter, "SITE command not implemented; SITE HELP lists those that are."),
        };
    }

    /// <summary>
    /// <c>SITE CHMOD mode path</c>: accepted for a file that exists, and nothing changes. The gateway manages
    /// permissions itself (a user's are those configured), on every storage: a client's mode bits have no meaning
    /// on an object store and would open the gateway's own files on a disk.
    /// </summary>
    private static async ValueTask<FtpReply> ChmodAsync(SessionContext s, string argument, CancellationToken ct)
    {
        var parts = argument.Split(' ', 2, StringSplitOptions.TrimEntries);
        if (parts.Length < 2 || parts[0].Length is < 3 or > 4 || !parts[0].All(c => c is >= '0' and <= '7'))
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Syntax: SITE CHMOD <octal mode> <path>");
        }

        if (!s.User.CanWrite)
        {
            return CommandChecks.PermissionDenied;
        }

        var path = s.Resolve(parts[1]);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        return await s.StatAsync(path.Value, ct) is null
            ? CommandChecks.NoSuchEntry
            : FtpReply.Of(ReplyCodes.Okay, "SITE CHMOD accepted; permissions are managed by the gateway, nothing was changed.");
    }

    /// <summary><c>SITE IDLE [seconds]</c>: this session's idle timeout, from 30 seconds to Ftp:MaxIdleTimeout.</summary>
    private static FtpReply Idle(SessionContext s, string argument)
    {
        var maximum = s.Options.MaxIdleTimeout;
        if (argument.Length == 0)
        {
            return FtpReply.Of(ReplyCodes.Okay, $"Idle timeout is {Seconds(s.IdleTimeout)} seconds (at most {Seconds(maximum)}).");
        }

        if (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || TimeSpan.FromSeconds(seconds) < MinimumIdle || TimeSpan.FromSeconds(seconds) > maximum)
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, $"SITE IDLE takes {Seconds(MinimumIdle)} to {Seconds(maximum)} seconds.");
        }

        s.IdleTimeout = TimeSpan.FromSeconds(seconds);
        return FtpReply.Of(ReplyCodes.Okay, $"Idle timeout set to {seconds} seconds.");
    }

    /// <summary>
    /// Sets a file's modification time, as MFMT does, in either form clients send:
    /// <c>SITE UTIME YYYYMMDDhhmm[ss] path</c> (ProFTPD) or <c>SITE UTIME path atime mtime ctime UTC</c> (wu-ftpd, Pure-FTPd).
    /// </summary>
    private static async ValueTask<FtpReply> UtimeAsync(SessionContext s, string argument, CancellationToken ct)
    {
        if (ParseUtime(argument) is not var (time, name))
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Syntax: SITE UTIME YYYYMMDDhhmm[ss] <path>, or SITE UTIME <path> <atime> <mtime> <ctime> UTC");
        }

        if ((s.Storage.Capabilities & StorageCapabilities.SetModificationTime) == 0)
        {
            return FtpReply.Of(ReplyCodes.NotImplemented, "This storage cannot set modification times.");
        }

        if (!s.User.CanWrite)
        {
            return CommandChecks.PermissionDenied;
        }

        var path = s.Resolve(name);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        await s.Storage.SetModificationTimeAsync(path.Value.ToStorage(s.User), time, ct);
        return FtpReply.Of(ReplyCodes.Okay, $"Modification time set to {ListingFormatter.FormatTime(time)}.");
    }

    private static (DateTimeOffset Time, string Path)? ParseUtime(string argument)
    {
        var tokens = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length >= 5 && tokens[^1].Equals("UTC", StringComparison.OrdinalIgnoreCase)
            && TryParseUtime(tokens[^3], out var modified) && TryParseUtime(tokens[^4], out _))
        {
            // The path may hold spaces: it is everything before the last four words (three times and "UTC").
            return (modified, argument[..CommandChecks.LastWordsStart(argument, 4)].Trim());
        }

        var space = argument.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 && TryParseUtime(argument[..space], out var time) ? (time, argument[(space + 1)..].Trim()) : null;
    }

    /// <summary>MFMT's time, or ProFTPD's form without seconds (<c>YYYYMMDDhhmm</c>), which only SITE UTIME takes.</summary>
    private static bool TryParseUtime(string text, out DateTimeOffset time) =>
        ListingFormatter.TryParseTime(text, out time)
        || DateTimeOffset.TryParseExact(text, "yyyyMMddHHmm", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static long Seconds(TimeSpan span) => (long)span.TotalSeconds;
}

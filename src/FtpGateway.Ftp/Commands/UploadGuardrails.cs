using System.Globalization;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;

namespace FtpGateway.Ftp.Commands;

/// <summary>
/// A user's guardrails against a looping device (one that re-uploads the same files for ever, filling buckets and
/// bills), before 150: <c>maxFilesPerMinute</c> (450, try later: counted per UTC minute), <c>maxFilesPerDay</c> and
/// <c>maxBytesPerDay</c> (552: per UTC day, what was stored). Fleet-wide with the shared state, per gateway without.
/// The minute counts each anonymous camera (by address) on its own; the day counts all anonymous cameras together.
/// Each refusal is counted (<c>ftpgateway.uploads.guarded{reason}</c>) and logged with the user.
/// </summary>
internal static class UploadGuardrails
{
    /// <summary>A refusal, or how many bytes this upload may still bring today (null: no daily byte limit).</summary>
    public static async ValueTask<Checked<long?>> CheckAsync(SessionContext s, CancellationToken ct)
    {
        var g = s.User.Guardrails;
        if (!g.Any)
        {
            return (long?)null;
        }

        if (g.FilesPerMinute is { } perMinute)
        {
            var minute = s.Server.Time.GetUtcNow().ToUnixTimeSeconds() / 60;
            var begun = await s.Server.Counters.CountAsync(
                string.Create(CultureInfo.InvariantCulture, $"files-minute:{OwnUploads.Owner(s)}:{minute}"), 1, TimeSpan.FromMinutes(2), ct);
            if (begun > perMinute)
            {
                return Refuse(s, "files_per_minute", ReplyCodes.FileUnavailableBusy, $"More than {perMinute} uploads this minute from {s.User.Name}; try again in a minute.");
            }
        }

        if (g.FilesPerDay is null && g.BytesPerDay is null)
        {
            return (long?)null;
        }

        var (today, _) = await s.Server.UserRecords.GetAsync(s.User.Name, ct);
        var (files, bytes) = (today?.UploadsToday ?? 0, today?.BytesToday ?? 0);
        if (g.FilesPerDay is { } perDay && files >= perDay)
        {
            return Refuse(s, "files_per_day", ReplyCodes.ExceededStorage, $"{files} files stored today (UTC), the most {s.User.Name} may store in a day; nothing stored.");
        }

        if (g.BytesPerDay is { } bytesPerDay)
        {
            return bytes >= bytesPerDay
                ? Refuse(s, "bytes_per_day", ReplyCodes.ExceededStorage, $"{bytes} bytes stored today (UTC), the most {s.User.Name} may store in a day; nothing stored.")
                : bytesPerDay - bytes;
        }

        return (long?)null;
    }

    private static FtpReply Refuse(SessionContext s, string reason, int code, string text)
    {
        s.Server.Telemetry.UploadsGuarded.Add(1, new KeyValuePair<string, object?>("reason", reason));
        Log.Guarded(s.Logger, reason, s.User.Name, text);
        return FtpReply.Of(code, text);
    }
}

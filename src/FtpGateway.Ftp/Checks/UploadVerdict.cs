using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;

namespace FtpGateway.Ftp.Checks;

/// <summary>
/// An upload refused by its checks after its data, before anything became visible: the provider discards it, and
/// the transfer is answered with <see cref="Code"/> (550, or 451 for a scanner that could not say).
/// </summary>
internal sealed class UploadRefusedException(string reason, int code, string text) : Exception(text)
{
    /// <summary>The <c>reason</c> of upload.failed and of the <c>ftpgateway.uploads.rejected</c> counter.</summary>
    public string Reason => reason;

    public int Code => code;
}

/// <summary>What the checks found about an upload that was stored (its event carries it).</summary>
internal sealed class UploadFindings
{
    /// <summary>"clean", or why it was stored unscanned; null when nothing scanned it.</summary>
    public string? Scan { get; set; }

    /// <summary>The whole stored file's SHA-256 (lower-case hex), once committed.</summary>
    public string? Sha256 { get; set; }
}

/// <summary>
/// The verdict at the commit point, in this order: the size (minUploadBytes), the content type (checkContentType),
/// then the scanner. The first that refuses throws <see cref="UploadRefusedException"/>; the provider then stores
/// nothing.
/// </summary>
internal static class UploadVerdict
{
    /// <param name="s">the session.</param>
    /// <param name="upload">the upload's bytes as they passed.</param>
    /// <param name="path">where it is stored, as the user sees it.</param>
    /// <param name="kept">bytes of the existing file it keeps in front (REST, APPE): the size check counts the final size, and the content check applies only to a file written from its first byte.</param>
    /// <param name="findings">what the scan found, for the upload's event.</param>
    /// <param name="ct">cancelled when the transfer is.</param>
    public static async ValueTask CheckAsync(SessionContext s, CheckedUploadStream upload, UserPath path, long kept, UploadFindings findings, CancellationToken ct)
    {
        var checks = s.User!.Checks;
        var name = path.Name;
        var size = kept + upload.Bytes;
        if (checks.MinBytes is { } min && size < min)
        {
            throw Refuse(s, name, "too small", ReplyCodes.FileUnavailable, $"{name} has {size} bytes, fewer than the {min} this user must send; nothing stored.");
        }

        if (checks.CheckContentType && kept == 0 && upload.Bytes > 0 && ContentSignatures.Mismatch(UploadChecks.ExtensionOf(name), upload.Head) is { } type)
        {
            throw Refuse(s, name, "content type", ReplyCodes.FileUnavailable, $"The content of {name} is not {type}; nothing stored.");
        }

        if (upload.Scan is not { } scan)
        {
            return;
        }

        var options = s.Server.Scanning;
        switch (await scan.VerdictAsync(ct))
        {
            case ScanVerdict.Clean:
                findings.Scan = "clean";
                return;
            case ScanVerdict.Infected(var signature):
                Log.UploadInfected(s.Logger, name, signature);
                string? quarantine = null;
                try
                {
                    quarantine = await QuarantineAsync(s, upload, name, ct);
                }
                finally
                {
                    // Published whatever happens to the quarantine copy (a cut-short transfer cancels it).
                    s.Server.Events.Publish(
                        Events.EventTypes.UploadRejected, path.Value, s.User.Name,
                        new Events.RejectedUploadEventData(s.User.Name, s.ClientAddress.ToString(), s.Id, path.Value, name, signature) { Quarantine = quarantine });
                }

                throw Refuse(s, name, "infected", ReplyCodes.FileUnavailable, $"{name} was rejected by the content scanner ({signature}); nothing stored.", signature);
            case ScanVerdict.OverLimit when options.OverLimit == ScanFallback.Reject:
                throw Refuse(s, name, "scan limit", ReplyCodes.FileUnavailable, $"{name} is larger than the content scanner takes; nothing stored.");
            case ScanVerdict.OverLimit:
                findings.Scan = "not scanned: larger than the scanner's limit";
                s.Server.Telemetry.UploadsUnscanned.Add(1, new KeyValuePair<string, object?>("reason", "scan_limit"));
                return;
            case ScanVerdict.Failed(var reason) when options.OnError == ScanFallback.Reject:
                Log.ScannerUnavailable(s.Logger, name, reason);
                throw Refuse(s, name, "scanner unavailable", ReplyCodes.LocalError, "The content scanner is not available; nothing stored, try again later.");
            case ScanVerdict.Failed(var reason):
                Log.ScannerUnavailable(s.Logger, name, reason);
                findings.Scan = $"not scanned: {reason}";
                s.Server.Telemetry.UploadsUnscanned.Add(1, new KeyValuePair<string, object?>("reason", "scanner_unavailable"));
                return;
        }
    }

    /// <summary>Keeps the infected upload's scanned bytes in Scanning:QuarantineStorage; where, or null (none configured, or it failed: logged).</summary>
    private static async Task<string?> QuarantineAsync(SessionContext s, CheckedUploadStream upload, string name, CancellationToken ct)
    {
        var targetName = s.Server.Scanning.QuarantineStorage;
        if (targetName is null || !s.Server.Targets.TryGetValue(targetName, out var target))
        {
            return null;
        }

        if (upload.Spool is not { Whole: true } spool)
        {
            Log.QuarantineIncomplete(s.Logger, name);
            return null;
        }

        try
        {
            var stored = await spool.MoveToAsync(target, s.Server.Time.GetUtcNow(), s.User!.Name, s.Id, name, ct);
            var location = s.Server.Locate(targetName, stored) ?? $"{targetName}:{stored}";
            Log.Quarantined(s.Logger, name, location);
            return location;
        }
        catch (Exception ex) when (ex is Storage.StorageException or IOException)
        {
            Log.QuarantineFailed(s.Logger, ex, name);
            return null;
        }
    }

    private static UploadRefusedException Refuse(SessionContext s, string name, string reason, int code, string text, string? signature = null)
    {
        s.Server.Telemetry.UploadsRejected.Add(1, new KeyValuePair<string, object?>("reason", reason.Replace(' ', '_')));
        return new UploadRefusedException(signature is null ? reason : $"{reason}: {signature}", code, text);
    }
}

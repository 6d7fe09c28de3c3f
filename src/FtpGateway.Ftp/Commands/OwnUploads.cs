using System.Globalization;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>
/// <c>ownUploadsEditableFor</c>: a device's "Test" button stores a file (or makes a folder) and deletes or renames it
/// again. A WriteOnly user may do that — DELE and RNFR/RNTO of files it stored itself, RMD of empty directories it
/// made itself — within that time after it stored or made them; nothing of anyone else's, no listing, no download.
/// What a user stored is remembered on the fleet's shared state (or this gateway's), so the Test button passes
/// whichever gateway the balancer picks for each command.
/// </summary>
internal static class OwnUploads
{
    /// <summary>Whether the session's user is one this applies to (WriteOnly, with a time).</summary>
    public static bool Applies(SessionContext s) =>
        s.User is { CanModify: false, CanWrite: true, CanRead: false } && s.User.OwnUploadsEditableFor > TimeSpan.Zero;

    /// <summary>
    /// Remembers that the user created the file (or made the directory) at <paramref name="path"/> just now. Only what
    /// an upload created counts: an overwrite, an APPE or a resume of someone else's file never makes it the user's.
    /// Never fails: the file is stored whatever happens to the note (then the Test button gets 550, nothing worse).
    /// </summary>
    public static async Task RememberAsync(SessionContext s, bool directory, StoragePath path)
    {
        if (!Applies(s))
        {
            return;
        }

        try
        {
            await NoteAsync(s, Key(s, directory, path), s.Server.Time.GetUtcNow() + s.User.OwnUploadsEditableFor, CancellationToken.None);
        }
        catch (Exception ex) when (ex is State.FleetStateUnavailableException or OperationCanceledException)
        {
            // the note is lost, the upload stands
        }
    }

    /// <summary>Whether the user stored (made) <paramref name="path"/> itself and the time to change it has not passed.</summary>
    public static async Task<bool> IsOwnAsync(SessionContext s, bool directory, StoragePath path, CancellationToken ct) =>
        Applies(s) && await UntilAsync(s, Key(s, directory, path), ct) is { } until && until > s.Server.Time.GetUtcNow();

    /// <summary>The path is gone (deleted, removed).</summary>
    public static Task ForgetAsync(SessionContext s, bool directory, StoragePath path, CancellationToken ct) =>
        Applies(s) ? s.Server.Counters.ForgetAsync(Key(s, directory, path), ct) : Task.CompletedTask;

    /// <summary>A file of the user's renamed: still the user's, for the time that was left.</summary>
    public static async Task MovedAsync(SessionContext s, StoragePath from, StoragePath to, CancellationToken ct)
    {
        if (Applies(s) && await UntilAsync(s, Key(s, false, from), ct) is { } until)
        {
            await NoteAsync(s, Key(s, false, to), until, ct);
            await s.Server.Counters.ForgetAsync(Key(s, false, from), ct);
        }
    }

    /// <summary>Who owns what a session stores: the user, or for anonymous (one name for many cameras) the camera's address.</summary>
    public static string Owner(SessionContext s) => s.User.IsAnonymous ? $"anonymous@{s.ClientAddress}" : s.User.Name;

    private static string Key(SessionContext s, bool directory, StoragePath path) =>
        $"own-{(directory ? "dir" : "file")}:{s.User.StorageTarget ?? StorageTargets.Default}:{path.Value}";

    private static async Task NoteAsync(SessionContext s, string key, DateTimeOffset until, CancellationToken ct)
    {
        var left = until - s.Server.Time.GetUtcNow();
        if (left > TimeSpan.Zero)
        {
            await s.Server.Counters.NoteAsync(key, string.Create(CultureInfo.InvariantCulture, $"{until.ToUnixTimeMilliseconds()} {Owner(s)}"), left, ct);
        }
    }

    /// <summary>Until when the user may change what <paramref name="key"/> names; null when it is not the user's.</summary>
    private static async Task<DateTimeOffset?> UntilAsync(SessionContext s, string key, CancellationToken ct)
    {
        var note = await s.Server.Counters.RecallAsync(key, ct);
        var space = note?.IndexOf(' ', StringComparison.Ordinal) ?? -1;
        return space > 0 && note![(space + 1)..] == Owner(s) && long.TryParse(note.AsSpan(0, space), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
    }
}

using System.Globalization;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>File and directory actions (RFC 959 §4.1.3, RFC 3659): MKD, RMD, DELE, RNFR, RNTO, SIZE, MDTM, MFMT.</summary>
internal static class FileCommands
{
    public static async ValueTask<FtpReply> Mkd(SessionContext s, string argument, CancellationToken ct)
    {
        if (!s.User.CanWrite)
        {
            return CommandChecks.PermissionDenied;
        }

        var path = s.Resolve(argument);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        if (path.Value.IsRoot)
        {
            return FtpReply.Of(ReplyCodes.FileUnavailable, "File or directory already exists.");
        }

        try
        {
            await s.Storage.CreateDirectoryAsync(path.Value.ToStorage(s.User), ct);
        }
        catch (StorageException ex) when (ex.Kind == StorageErrorKind.NotFound && MissingDirectories.Enabled(s))
        {
            await MissingDirectories.CreateAsync(s, path.Value.Parent, ct); // MKD a/b/c with createDirectories
            await s.Storage.CreateDirectoryAsync(path.Value.ToStorage(s.User), ct);
        }

        await OwnUploads.RememberAsync(s, directory: true, path.Value.ToStorage(s.User));
        s.PublishFileEvent(Events.EventTypes.DirectoryCreated, path.Value);
        return FtpReply.Of(ReplyCodes.PathCreated, $"{path.Value.Quoted()} created.");
    }

    public static async ValueTask<FtpReply> Rmd(SessionContext s, string argument, CancellationToken ct)
    {
        var path = await ModifiableAsync(s, argument, directory: true, ct);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        if (path.Value.IsRoot)
        {
            return CommandChecks.PermissionDenied;
        }

        await s.Storage.DeleteDirectoryAsync(path.Value.ToStorage(s.User), ct);
        await OwnUploads.ForgetAsync(s, directory: true, path.Value.ToStorage(s.User), ct);
        s.PublishFileEvent(Events.EventTypes.DirectoryDeleted, path.Value);
        return FtpReply.Of(ReplyCodes.FileActionOkay, "Directory removed.");
    }

    public static async ValueTask<FtpReply> Dele(SessionContext s, string argument, CancellationToken ct)
    {
        var path = await ModifiableAsync(s, argument, directory: false, ct);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        await s.Storage.DeleteFileAsync(path.Value.ToStorage(s.User), ct);
        await OwnUploads.ForgetAsync(s, directory: false, path.Value.ToStorage(s.User), ct);
        s.PublishFileEvent(Events.EventTypes.FileDeleted, path.Value);
        return FtpReply.Of(ReplyCodes.FileActionOkay, "File deleted.");
    }

    public static async ValueTask<FtpReply> Rnfr(SessionContext s, string argument, CancellationToken ct)
    {
        var path = await ModifiableAsync(s, argument, directory: false, ct);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        if (path.Value.IsRoot)
        {
            return CommandChecks.PermissionDenied;
        }

        if (await s.StatAsync(path.Value, ct) is null)
        {
            return CommandChecks.NoSuchEntry;
        }

        s.Parameters.RenameFrom = path.Value;
        return FtpReply.Of(ReplyCodes.PendingFurtherInformation, "Ready for destination name.");
    }

    public static async ValueTask<FtpReply> Rnto(SessionContext s, string argument, CancellationToken ct)
    {
        var from = s.Parameters.RenameFrom;
        s.Parameters.RenameFrom = null;
        if (from is not { } source)
        {
            return FtpReply.Of(ReplyCodes.BadSequence, "Send RNFR first.");
        }

        var to = s.Resolve(argument);
        if (to.Refusal is { } refusal)
        {
            return refusal;
        }

        // A file may not become by rename what it could not be stored as (a directory keeps any name).
        if (Checks.UploadChecks.ExtensionOf(source.Name) != Checks.UploadChecks.ExtensionOf(to.Value.Name)
            && s.User.Checks.RefuseName(to.Value.Name) is { } typeRefused
            && (await s.Storage.GetEntryAsync(source.ToStorage(s.User), ct)) is { IsDirectory: false })
        {
            return FtpReply.Of(ReplyCodes.FileNameNotAllowed, typeRefused);
        }

        // A WriteOnly user's own file may take a free name only: never one that holds something of someone else's,
        // nor one an upload of this gateway is about to store under (held for the rename's moment).
        using var held = s.User.CanModify ? null : s.Server.Names.TryReserve(ExistingFiles.ReservationKey(s, to.Value));
        if (!s.User.CanModify && (held is null || await s.Storage.GetEntryAsync(to.Value.ToStorage(s.User), ct) is not null))
        {
            return CommandChecks.PermissionDenied;
        }

        await s.Storage.RenameAsync(source.ToStorage(s.User), to.Value.ToStorage(s.User), ct);
        await OwnUploads.MovedAsync(s, source.ToStorage(s.User), to.Value.ToStorage(s.User), ct);
        s.PublishFileEvent(Events.EventTypes.FileRenamed, to.Value, source);
        return FtpReply.Of(ReplyCodes.FileActionOkay, "Rename successful.");
    }

    public static async ValueTask<FtpReply> Size(SessionContext s, string argument, CancellationToken ct)
    {
        var file = await s.FindFileAsync(argument, ct);

        // The stored size, in every TYPE (a TYPE A transfer of a file with LF endings is longer).
        return file.Refusal ?? FtpReply.Of(ReplyCodes.FileStatus, file.Value.Entry.Size.ToString(CultureInfo.InvariantCulture));
    }

    public static async ValueTask<FtpReply> Mdtm(SessionContext s, string argument, CancellationToken ct)
    {
        var file = await s.FindFileAsync(argument, ct);
        return file.Refusal ?? FtpReply.Of(ReplyCodes.FileStatus, ListingFormatter.FormatTime(file.Value.Entry.LastModified ?? DateTimeOffset.UnixEpoch));
    }

    /// <summary>draft-somers-ftp-mfxx: <c>MFMT YYYYMMDDHHMMSS path</c>.</summary>
    public static async ValueTask<FtpReply> Mfmt(SessionContext s, string argument, CancellationToken ct)
    {
        if (!s.User.CanWrite)
        {
            return CommandChecks.PermissionDenied;
        }

        if ((s.Storage.Capabilities & StorageCapabilities.SetModificationTime) == 0)
        {
            return FtpReply.Of(ReplyCodes.NotImplemented, "This storage cannot set modification times.");
        }

        var space = argument.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || !ListingFormatter.TryParseTime(argument[..space], out var time))
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Syntax: MFMT YYYYMMDDHHMMSS <path>");
        }

        var path = s.Resolve(argument[(space + 1)..]);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        await s.Storage.SetModificationTimeAsync(path.Value.ToStorage(s.User), time, ct);
        return FtpReply.Of(ReplyCodes.FileStatus, $"Modify={ListingFormatter.FormatTime(time)}; {path.Value}");
    }

    /// <summary>
    /// Delete and rename need the Full permission (a drop box may only add) — or, for a WriteOnly user with
    /// ownUploadsEditableFor, a file it stored (a directory it made) itself a short while ago.
    /// </summary>
    private static async ValueTask<Checked<UserPath>> ModifiableAsync(SessionContext s, string argument, bool directory, CancellationToken ct)
    {
        if (s.User.CanModify)
        {
            return s.Resolve(argument);
        }

        var path = s.Resolve(argument);
        return path.Refusal is null && OwnUploads.Applies(s) && await OwnUploads.IsOwnAsync(s, directory, path.Value.ToStorage(s.User), ct)
            ? path
            : CommandChecks.PermissionDenied;
    }
}

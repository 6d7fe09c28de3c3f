using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>Data transfers (RFC 959 §4.1.3): RETR, STOR, STOU, APPE, ABOR. Listings are in <see cref="ListingCommands"/>.</summary>
internal static class TransferCommands
{
    public static async ValueTask<FtpReply> Retr(SessionContext s, string argument, CancellationToken ct)
    {
        var offset = s.Parameters.TakeRestOffset();
        var file = await s.FindFileAsync(argument, ct);
        if ((file.Refusal ?? DataChannelRefusal(s)) is { } refusal)
        {
            return refusal;
        }

        // Opened before the 150 so that a missing file or a bad offset gets its own reply, not a failed transfer.
        var (path, entry) = file.Value;
        var source = await s.Storage.OpenReadAsync(entry.Path, offset, ct);
        var ascii = s.Parameters.Ascii;

        // In TYPE A the bytes sent differ from the stored size (LF becomes CRLF): no size is announced then.
        var size = ascii ? string.Empty : $" ({entry.Size - offset} bytes)";
        var reply = Start(s, "RETR", TransferDirection.Download, path, $"Opening {s.Parameters.ModeName} mode data connection for {entry.Name}{size}.", async (data, token) =>
        {
            await data.SendAsync(source, ascii, token);
            return "Transfer complete.";
        });
        return reply.WithOpened(source);
    }

    public static ValueTask<FtpReply> Stor(SessionContext s, string argument, CancellationToken ct)
    {
        var offset = s.Parameters.TakeRestOffset();
        return StoreAsync(s, "STOR", argument, offset > 0 ? UploadMode.Resume : UploadMode.Replace, offset, uniqueName: null, ct);
    }

    /// <summary>APPE always appends at the end (RFC 959 §4.1.3): a REST offset is dropped.</summary>
    public static ValueTask<FtpReply> Appe(SessionContext s, string argument, CancellationToken ct)
    {
        s.Parameters.TakeRestOffset();
        return StoreAsync(s, "APPE", argument, UploadMode.Append, 0, uniqueName: null, ct);
    }

    /// <summary>RFC 1123 §4.1.2.9: the reply carries "FILE: name". A name that exists is never overwritten.</summary>
    public static async ValueTask<FtpReply> Stou(SessionContext s, string argument, CancellationToken ct)
    {
        s.Parameters.TakeRestOffset();
        if (!s.User.CanWrite)
        {
            return CommandChecks.PermissionDenied;
        }

        var basePath = s.Resolve(argument.Length == 0 ? "ftp" : argument);
        if (basePath.Refusal is { } refusal)
        {
            return refusal;
        }

        var name = $"{(basePath.Value.IsRoot ? "ftp" : basePath.Value.Name)}.{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 6))}";
        var target = (basePath.Value.IsRoot ? UserPath.Root : basePath.Value.Parent).Child(name);
        return await StoreAsync(s, "STOU", target.Value, UploadMode.CreateNew, 0, name, ct, typedName: basePath.Value.IsRoot ? "ftp" : basePath.Value.Name);
    }

    /// <summary>STOR, APPE and STOU: the checks before 150, then the upload with its verdict before commit.</summary>
    /// <param name="s">the session.</param>
    /// <param name="verb">the command.</param>
    /// <param name="argument">the path.</param>
    /// <param name="mode">how the upload combines with an existing file.</param>
    /// <param name="offset">REST's offset.</param>
    /// <param name="uniqueName">STOU's name.</param>
    /// <param name="ct">the command's cancellation.</param>
    /// <param name="typedName">the name the file-type rules judge (STOU: the client's, not the unique suffix); null: the path's.</param>
    private static async ValueTask<FtpReply> StoreAsync(SessionContext s, string verb, string argument, UploadMode mode, long offset, string? uniqueName, CancellationToken ct, string? typedName = null)
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

        // The user's file types: refused by name, before 150 (RFC 959 §4.2: 553, file name not allowed).
        if (s.User.Checks.RefuseName(typedName ?? path.Value.Name) is { } typeRefused)
        {
            return FtpReply.Of(ReplyCodes.FileNameNotAllowed, typeRefused);
        }

        // A looping device: its guardrails, before 150 (450 this minute, 552 today).
        var guarded = await UploadGuardrails.CheckAsync(s, ct);
        if (guarded.Refusal is { } overLimit)
        {
            return overLimit;
        }

        var needed = mode switch
        {
            UploadMode.Append => StorageCapabilities.Append,
            UploadMode.Resume => StorageCapabilities.ResumeUpload,
            _ => StorageCapabilities.None,
        };
        if ((s.Storage.Capabilities & needed) != needed)
        {
            return FtpReply.Of(ReplyCodes.NotImplemented, mode == UploadMode.Append ? "APPE is not supported by this storage." : "Resuming uploads is not supported by this storage.");
        }

        // Refused before 150, as a reply: a missing directory, a directory, a name the store cannot hold. A device
        // that makes its directory only when STOR is refused must see the refusal, not a transfer broken off. On
        // object stores the check is answered by what the gateway saw lately, so it seldom costs a round trip.
        var target = path.Value.ToStorage(s.User);
        var missingDirectory = false;
        if (await CheckTargetAsync(s, target, ct) is { } refused)
        {
            // createDirectories: made once nothing else refuses the upload, then as if they had been there.
            if (!MissingDirectories.Enabled(s) || mode == UploadMode.Resume)
            {
                return refused;
            }

            missingDirectory = true;
        }

        if (mode == UploadMode.Resume)
        {
            var existing = await s.Storage.GetEntryAsync(target, ct);
            if (existing is null || existing.IsDirectory || offset > existing.Size)
            {
                return FtpReply.Of(ReplyCodes.InvalidRestartOffset, "Restart offset is beyond the end of the file.");
            }
        }

        // The user's size limit counts the final size: what is kept (REST) or already there (APPE) plus the upload.
        long? allowance = null;
        if (s.User.MaxUploadBytes is { } max)
        {
            var kept = mode switch
            {
                UploadMode.Resume => offset,
                UploadMode.Append => (await s.Storage.GetEntryAsync(target, ct)) is { IsDirectory: false } appended ? appended.Size : 0,
                _ => 0,
            };
            if (kept > max)
            {
                return SizeLimitReply(max);
            }

            allowance = max - kept;
        }

        string? limitText = null;
        if (guarded.Value is { } leftToday && leftToday < (allowance ?? long.MaxValue))
        {
            allowance = leftToday; // maxBytesPerDay: an upload past it stores nothing
            limitText = $"This upload would pass the bytes {s.User.Name} may store today (UTC); nothing stored.";
        }

        if (DataChannelRefusal(s) is { } noChannel)
        {
            return noChannel;
        }

        if (missingDirectory)
        {
            await MissingDirectories.CreateAsync(s, path.Value.Parent, ct);
            if (await CheckTargetAsync(s, target, ct) is { } stillRefused)
            {
                return stillRefused;
            }
        }

        // onExistingFile (STOR, APPE; STOU names its own file): refused before 150, or stored under the next free name.
        var file = path.Value;
        string? storedAs = null;
        NameReservations.Reservation? reservation = null;
        if (uniqueName is null)
        {
            var applied = await ExistingFiles.ApplyAsync(s, file, mode, ct);
            if (applied.Refusal is { } existing)
            {
                return existing;
            }

            (file, mode, reservation) = applied.Value;
            (storedAs, target) = file == path.Value ? (null, target) : (file.Name, file.ToStorage(s.User));
        }

        // ownUploadsEditableFor: only a file this upload creates becomes the user's. A write-only user's STOR to a free
        // name is made a conditional create, so a file someone else stores there meanwhile is never taken for its own.
        var creates = mode == UploadMode.CreateNew;
        if (!creates && mode == UploadMode.Replace && OwnUploads.Applies(s) && await s.Storage.GetEntryAsync(target, ct) is null)
        {
            (mode, creates) = (UploadMode.CreateNew, true);
        }

        var renamed = s.User.OnExistingFile == Users.ExistingFilePolicy.Rename && uniqueName is null;

        var ascii = s.Parameters.Ascii;
        var presence = s.Presence;
        var opening = uniqueName is not null ? $"FILE: {uniqueName}"
            : storedAs is not null ? $"Opening {s.Parameters.ModeName} mode data connection for {path.Value.Name} ({path.Value.Name} exists: stored as {storedAs})."
            : $"Opening {s.Parameters.ModeName} mode data connection for {file.Name}.";
        var name = file.Name;
        var findings = new Checks.UploadFindings();
        var keptBytes = mode switch
        {
            UploadMode.Resume => offset,
            UploadMode.Append when s.User.Checks.MinBytes is not null || s.User.Checks.CheckContentType =>
                (await s.Storage.GetEntryAsync(target, ct)) is { IsDirectory: false } existingFile ? existingFile.Size : 0,
            _ => 0L,
        };
        var scanner = s.Server.Scanner is { } clamd && s.User.Checks.Scan ? clamd : null;
        var reply = Start(s, verb, TransferDirection.Upload, file, opening, async (data, token) =>
        {
            reservation?.Started();
            Stream source = ascii ? new AsciiUploadStream(data) : data;
            if (allowance is { } bytes)
            {
                source = new SizeLimitedStream(source, bytes) { Reply = limitText };
            }

            // The checks see every byte on its way to the store; their verdict comes at the commit point.
            using var scan = scanner is null ? null : await scanner.StartAsync(token);
            using var spool = scan is not null && s.Server.Scanning.Quarantines ? Checks.QuarantineSpool.Create(Path.GetTempPath(), s.Server.QuarantineSpools) : null;
            var checkedSource = new Checks.CheckedUploadStream(source, scan, spool);
            var request = new UploadRequest(target, checkedSource)
            {
                Mode = mode,
                Offset = offset,
                BeforeCommit = async commitToken =>
                {
                    // The verdict first (it may wait for the scanner), the client's presence last, just before the commit.
                    await Checks.UploadVerdict.CheckAsync(s, checkedSource, file, keptBytes, findings, commitToken);
                    await ConfirmClientPresent(presence, commitToken);
                },
                Metadata = UploadMetadata(s),
            };
            StorageEntry stored;
            try
            {
                stored = await s.Storage.UploadAsync(request, token);
            }
            catch (StorageException ex) when (ex.Kind == StorageErrorKind.AlreadyExists && renamed)
            {
                // Another writer took the free name between the search and the commit: nothing stored, and the next
                // try finds the next free name, so it is a transient failure (450), not a permanent one.
                throw new Checks.UploadRefusedException("name taken", ReplyCodes.FileUnavailableBusy, $"{file.Name} was stored by another client meanwhile; nothing stored, send it again.");
            }

            findings.Sha256 = stored.Sha256 is { } digest ? Convert.ToHexStringLower(digest) : null;
            if (creates)
            {
                await OwnUploads.RememberAsync(s, directory: false, target);
            }

            return uniqueName is not null ? $"Transfer complete (unique file name: {uniqueName})."
                : storedAs is not null ? $"Transfer complete; stored as {storedAs}."
                : "Transfer complete.";
        },
        findings);

        // The reserved name is released with the job: when the upload ends, or when the transfer never starts.
        return reservation is null ? reply : reply.WithOpened(reservation);
    }

    /// <summary>RFC 959 §4.2: 553 for a name that cannot be stored there (as pure-ftpd answers a missing directory).</summary>
    private static async ValueTask<FtpReply?> CheckTargetAsync(SessionContext s, StoragePath target, CancellationToken ct)
    {
        try
        {
            await s.Storage.CheckUploadTargetAsync(target, ct);
            return null;
        }
        catch (StorageException ex) when (ex.Kind is StorageErrorKind.NotFound or StorageErrorKind.NotADirectory)
        {
            Log.StorageError(s.Logger, ex, "STOR", ex.Kind);
            return NoSuchDirectory;
        }
    }

    private static readonly FtpReply NoSuchDirectory = FtpReply.Of(ReplyCodes.FileNameNotAllowed, "No such directory; create it first (MKD).");

    /// <summary>
    /// Stored with the object (S3 user metadata, blob metadata), so that whoever holds an object can find the
    /// upload that wrote it: the W3C traceparent of the transfer's span (when tracing is on), the session, the
    /// user and the client's address. Values are ASCII (user names percent-encoded where they are not).
    /// </summary>
    private static Dictionary<string, string> UploadMetadata(SessionContext s)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ftpgateway_session"] = s.Id,
            ["ftpgateway_user"] = Truncated(Uri.EscapeDataString(s.User.Name)), // S3 keeps 2 KB of user metadata in all
            ["ftpgateway_client"] = s.ClientAddress.ToString(),
        };
        if (System.Diagnostics.Activity.Current is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C } activity)
        {
            metadata["ftpgateway_traceparent"] = activity.Id!;
        }

        return metadata;
    }

    private static string Truncated(string value) => value.Length <= 256 ? value : value[..256];

    private static FtpReply SizeLimitReply(long max) =>
        FtpReply.Of(ReplyCodes.ExceededStorage, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"File larger than your upload limit of {max} bytes; nothing stored."));

    /// <summary>
    /// Called by the provider after the data connection ended cleanly and before the commit: a client that
    /// was killed closes its data connection just like one that finished, but its control connection is gone too.
    /// </summary>
    private static ValueTask ConfirmClientPresent(IClientPresence presence, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return presence.ControlConnectionLost
            ? throw new DataConnectionException("The control connection closed before the upload could be confirmed")
            : ValueTask.CompletedTask;
    }

    /// <summary>RFC 959 §4.1.3: the transfer's own reply (426) comes first, then 226 for the ABOR.</summary>
    public static async ValueTask<FtpReply> Abor(SessionContext s, string argument, CancellationToken ct)
    {
        if (s.Transfers.Current is null)
        {
            var hadChannel = s.Parameters.PendingData is not null;
            s.Parameters.SetPendingData(null);
            return FtpReply.Of(hadChannel ? ReplyCodes.ClosingData : ReplyCodes.DataOpenNoTransfer, "No transfer to abort.");
        }

        await s.Transfers.CancelAsync(TransferFailure.Aborted);
        return FtpReply.Of(ReplyCodes.ClosingData, "ABOR command successful.");
    }

    /// <summary>Why a transfer cannot start: no data connection negotiated (425), or one in clear text where TLS is required (534).</summary>
    internal static FtpReply? DataChannelRefusal(SessionContext s) =>
        s.Parameters.PendingData is null ? FtpReply.Of(ReplyCodes.CantOpenDataConnection, "Use PORT, EPRT, PASV or EPSV first.")
        : (s.Options.Tls.Required || s.Login.User?.RequireTls == true) && !s.Tls.ProtectData
            ? FtpReply.Of(ReplyCodes.ProtectionLevelDenied, "This server requires PROT P for data connections.")
        : null;

    /// <summary>The 150 that starts a transfer on the negotiated data connection.</summary>
    internal static FtpReply Start(SessionContext s, string verb, TransferDirection direction, UserPath path, string openingText, TransferWork work, Checks.UploadFindings? findings = null) =>
        FtpReply.StartTransfer(
            openingText,
            new TransferJob(verb, direction, path, path.ToStorage(s.User), s.Parameters.TakePendingData(), s.Tls.ProtectData, work)
            {
                Throttle = direction == TransferDirection.Listing ? null : s.Server.UserSessions.Throttle(s.User, direction == TransferDirection.Upload),
                StorageTarget = s.User.StorageTarget ?? StorageTargets.Default,
                Party = new TransferParty(s.User.Name, s.User.IsAnonymous, s.ClientAddress.ToString(), s.Id, s.Parameters.Ascii),
                StorageProvider = s.Storage.Name,
                Findings = findings,
            });
}

using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>
/// <c>createDirectories</c>: cameras write into <c>/&lt;serial&gt;/2026-12-06/001/jpg/10/…</c> and send STOR before the
/// folder exists, or MKD a/b/c in one command. For a user who may write and has it on, the missing directories
/// are made, one level at a time from the top (as MKD would), each with its directory.created event.
/// </summary>
internal static class MissingDirectories
{
    /// <summary>Whether the session's user has <c>createDirectories</c> (its own, else Ftp:CreateDirectories) and may write.</summary>
    public static bool Enabled(SessionContext s) => s.User.CanWrite && (s.User.CreateDirectories ?? s.Server.Options.CreateDirectories);

    /// <summary>Makes <paramref name="directory"/> and every missing directory above it. A file in the way is NotADirectory.</summary>
    public static async ValueTask CreateAsync(SessionContext s, UserPath directory, CancellationToken ct)
    {
        var chain = new Stack<UserPath>();
        for (var d = directory; !d.IsRoot; d = d.Parent)
        {
            chain.Push(d);
        }

        var missing = false;
        while (chain.TryPop(out var d))
        {
            var storagePath = d.ToStorage(s.User);
            if (!missing)
            {
                var entry = await s.Storage.GetEntryAsync(storagePath, ct);
                if (entry is { IsDirectory: true })
                {
                    continue;
                }

                if (entry is not null)
                {
                    throw new StorageException(StorageErrorKind.NotADirectory, $"'{d}' is a file");
                }

                missing = true; // everything below is missing too
            }

            try
            {
                await s.Storage.CreateDirectoryAsync(storagePath, ct);
                await OwnUploads.RememberAsync(s, directory: true, storagePath); // a Test button may remove what it made
                s.PublishFileEvent(Events.EventTypes.DirectoryCreated, d);
            }
            catch (StorageException ex) when (ex.Kind == StorageErrorKind.AlreadyExists)
            {
                // another session made it meanwhile
            }
        }
    }
}

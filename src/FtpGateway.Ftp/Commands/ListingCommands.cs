using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>What a directory holds: LIST, NLST, MLSD (data connection), MLST and STAT (control connection).</summary>
internal static class ListingCommands
{
    public static ValueTask<FtpReply> List(SessionContext s, string argument, CancellationToken ct)
    {
        var writable = s.User.CanModify;
        var now = s.Server.Time.GetUtcNow();
        return ListingAsync(
            s, "LIST", CommandChecks.StripListOptions(argument), patterns: true,
            (Span<byte> destination, StorageEntry entry, string name, out int written) => ListingFormatter.TryWriteList(destination, entry, now, writable, name, out written),
            ct);
    }

    /// <summary>A listing line in a device's legacy code page: formatted as UTF-8, then re-encoded.</summary>
    private static ListingLine Transcoded(ListingLine utf8, System.Text.Encoding target) =>
        (Span<byte> destination, StorageEntry entry, string name, out int written) =>
        {
            var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(destination.Length);
            try
            {
                written = 0;
                return utf8(scratch.AsSpan(0, destination.Length), entry, name, out var length)
                    && target.TryGetBytes(Encoding.UTF8.GetString(scratch.AsSpan(0, length)), destination, out written);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
            }
        };

    public static ValueTask<FtpReply> Nlst(SessionContext s, string argument, CancellationToken ct) =>
        ListingAsync(
            s, "NLST", CommandChecks.StripListOptions(argument), patterns: true,
            (Span<byte> destination, StorageEntry _, string name, out int written) => Utf8.TryWrite(destination, CultureInfo.InvariantCulture, $"{name}\r\n", out written),
            ct);

    /// <summary>RFC 3659 §7.1: MLSD lists a directory; it takes no pattern.</summary>
    public static ValueTask<FtpReply> Mlsd(SessionContext s, string argument, CancellationToken ct)
    {
        var facts = s.Parameters.Facts;
        var (filePermissions, directoryPermissions) = (FilePermissions(s.User), DirectoryPermissions(s.User));
        return ListingAsync(
            s, "MLSD", argument, patterns: false,
            (Span<byte> destination, StorageEntry entry, string name, out int written) =>
                ListingFormatter.TryWriteFacts(destination, entry, facts, entry.IsDirectory ? directoryPermissions : filePermissions, name, out written),
            ct);
    }

    public static async ValueTask<FtpReply> Mlst(SessionContext s, string argument, CancellationToken ct)
    {
        var found = await s.FindReadableAsync(argument, ct);
        if (found.Refusal is { } refusal)
        {
            return refusal;
        }

        var (path, entry) = found.Value;
        return FtpReply.Multiline(ReplyCodes.FileActionOkay, [$"Listing {path}", Facts(entry, s.Parameters.Facts, s.User, path.Value), "End"]);
    }

    /// <summary>
    /// STAT without an argument, or during a transfer: the session's status. STAT with a path: like LIST, but
    /// over the control connection (RFC 959 §4.1.3), streamed rather than collected.
    /// </summary>
    public static async ValueTask<FtpReply> Stat(SessionContext s, string argument, CancellationToken ct)
    {
        var transfer = s.Transfers.Current;
        if (argument.Length == 0 || transfer is not null)
        {
            return Status(s, transfer);
        }

        if (s.Login.User is null)
        {
            return CommandExecutor.NotLoggedIn;
        }

        var found = await s.FindReadableAsync(CommandChecks.StripListOptions(argument), ct);
        if (found.Refusal is { } refusal)
        {
            return refusal;
        }

        var (path, entry) = found.Value;
        var code = entry.IsDirectory ? ReplyCodes.DirectoryStatus : ReplyCodes.FileStatus;
        var now = s.Server.Time.GetUtcNow();
        var writable = s.User.CanModify;
        var lines = Entries(s.Storage, entry, ct).Select(item => ListingFormatter.FormatList(item, now, writable, item.Name));
        return FtpReply.Streamed(code, $"Status of {path}:", UntilStorageFails(lines, s), "End of status.");
    }

    private static FtpReply Status(SessionContext s, Transfer? transfer)
    {
        var lines = new List<string>
        {
            "FtpGateway status:",
            $"Connected from {s.ClientAddress}",
            s.Login.User is { } user ? $"Logged in as {user.Name}" : "Not logged in",
            $"TYPE: {s.Parameters.ModeName}, STRUcture: File, MODE: Stream",
            s.Tls.Active ? $"Control connection: TLS, data protection: {(s.Tls.ProtectData ? "private" : "clear")}" : "Control connection: clear",
        };
        if (transfer is not null)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"Transfer in progress: {transfer.Job.Verb} {transfer.Job.Path}, {transfer.Bytes} bytes"));
        }

        lines.Add("End of status");
        return FtpReply.Multiline(ReplyCodes.SystemStatus, lines);
    }

    private static async ValueTask<FtpReply> ListingAsync(SessionContext s, string verb, string argument, bool patterns, ListingLine format, CancellationToken ct)
    {
        s.Parameters.TakeRestOffset(); // a REST applies to the next transfer only, and a listing is one
        if (s.NameEncoding is { } legacy)
        {
            format = Transcoded(format, legacy);
        }

        var found = await s.FindReadableAsync(argument, ct);
        Glob? glob = null;

        // NLST of a file answers the file as the client named it ("mp/one.txt"), as ls does: BSD ftp, inetutils
        // and ftp.exe RETR what NLST printed for mget. A directory's names stay bare, as ls shows them.
        var shownPrefix = verb == "NLST" && argument.Length > 0 && found.Refusal is null && !found.Value.Entry.IsDirectory ? null : string.Empty;
        if (found.Refusal == CommandChecks.NoSuchEntry && patterns && SplitPattern(argument) is var (directory, last, prefix))
        {
            // Not a name that exists, but a pattern in its last component: one listing of its directory, filtered.
            if (!Glob.TryCreate(last, out var pattern))
            {
                return PatternTooLong;
            }

            (found, glob, shownPrefix) = (await s.FindReadableAsync(directory, ct), pattern, prefix);
            if (found.Refusal is null && !found.Value.Entry.IsDirectory)
            {
                found = CommandChecks.NoSuchEntry;
            }
        }

        if (found.Refusal is { } refusal)
        {
            return refusal;
        }

        var (path, entry) = found.Value;
        if (!patterns && !entry.IsDirectory)
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Not a directory."); // RFC 3659 §7.1
        }

        if (TransferCommands.DataChannelRefusal(s) is { } noChannel)
        {
            return noChannel;
        }

        var storage = s.Storage;
        return TransferCommands.Start(s, verb, TransferDirection.Listing, path, "Opening data connection for directory listing.", async (data, token) =>
        {
            // Streamed entry by entry through one buffer: a directory of a million entries is never held.
            using var writer = new ListingWriter(data);
            await foreach (var item in Entries(storage, entry, token))
            {
                if (glob is null || glob.IsMatch(item.Name))
                {
                    await writer.WriteAsync(format, item, shownPrefix is null ? argument : shownPrefix + item.Name, token);
                }
            }

            await writer.FlushAsync(token);
            return "Transfer complete.";
        });
    }

    /// <summary>
    /// "sub/*.txt" as its directory ("sub"), the pattern ("*.txt") and the prefix matched names are shown with
    /// ("sub/", as <c>ls sub/*.txt</c> shows them); null when the last component has no wildcard.
    /// </summary>
    private static (string Directory, string Pattern, string Prefix)? SplitPattern(string argument)
    {
        var cut = argument.LastIndexOfAny(['/', '\\']);
        var (directory, last) = cut < 0 ? (string.Empty, argument) : (argument[..(cut + 1)], argument[(cut + 1)..]);
        return Glob.IsPattern(last) ? (directory, last, directory) : null;
    }

    private static readonly FtpReply PatternTooLong = FtpReply.Of(
        ReplyCodes.SyntaxErrorInParameters,
        string.Create(CultureInfo.InvariantCulture, $"Pattern too long: at most {Glob.MaxLength} characters and {Glob.MaxElements} wildcards, characters and classes."));

    /// <summary>
    /// A multi-line reply over the control connection cannot change its code once its first line is out: when the
    /// storage fails part-way, a last line says the listing is incomplete, and the reply ends as it began.
    /// </summary>
    private static async IAsyncEnumerable<string> UntilStorageFails(IAsyncEnumerable<string> lines, SessionContext s)
    {
        await using var items = lines.GetAsyncEnumerator();
        var failed = false;
        while (!failed)
        {
            string line;
            try
            {
                if (!await items.MoveNextAsync())
                {
                    yield break;
                }

                line = items.Current;
            }
            catch (StorageException ex)
            {
                Log.StorageError(s.Logger, ex, "STAT", ex.Kind);
                line = $"(listing incomplete: {ReplyMapper.Map(ex.Kind).Text})";
                failed = true;
            }

            yield return line;
        }
    }

    /// <summary>A directory's children, or the entry itself when it is a file (LIST of a file lists that file).</summary>
    private static async IAsyncEnumerable<StorageEntry> Entries(IStorageProvider storage, StorageEntry entry, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!entry.IsDirectory)
        {
            yield return entry;
            yield break;
        }

        await foreach (var item in storage.ListAsync(entry.Path, ct))
        {
            yield return item;
        }
    }

    private static string Facts(StorageEntry entry, MlstFacts facts, FtpUser user, string name) =>
        ListingFormatter.FormatFacts(entry, facts, entry.IsDirectory ? DirectoryPermissions(user) : FilePermissions(user), name);

    /// <summary>RFC 3659 §7.5.5 perm fact letters, from what this user may do.</summary>
    private static string FilePermissions(FtpUser user) => user.Permissions switch
    {
        UserPermissions.Full => "adfrw",
        UserPermissions.ReadOnly => "r",
        _ => "aw",
    };

    private static string DirectoryPermissions(FtpUser user) => user.Permissions switch
    {
        UserPermissions.Full => "cdeflmp",
        UserPermissions.ReadOnly => "el",
        _ => "cem",
    };
}

using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>A value a command needs, or the reply that says why the command cannot go on.</summary>
internal readonly struct Checked<T>
{
    private Checked(T value, FtpReply? refusal)
    {
        Value = value;
        Refusal = refusal;
    }

    public T Value { get; }

    public FtpReply? Refusal { get; }

    public static implicit operator Checked<T>(T value) => new(value, null);

    public static implicit operator Checked<T>(FtpReply refusal) => new(default!, refusal);
}

/// <summary>A path the client named, with the storage's entry for it.</summary>
internal readonly record struct Found(UserPath Path, StorageEntry Entry);

/// <summary>The checks commands share: permission, a valid path, an existing entry — each with its fixed reply.</summary>
internal static class CommandChecks
{
    public static FtpReply PermissionDenied { get; } = FtpReply.Of(ReplyCodes.FileUnavailable, "Permission denied.");

    public static FtpReply NameNotAllowed { get; } = FtpReply.Of(ReplyCodes.FileNameNotAllowed, "File name not allowed.");

    public static FtpReply NoSuchEntry { get; } = FtpReply.Of(ReplyCodes.FileUnavailable, "No such file or directory.");

    /// <summary>The path the client typed, resolved against its working directory (553 when it is not a valid name).</summary>
    public static Checked<UserPath> Resolve(this SessionContext s, string argument) =>
        UserPath.TryResolve(s.Navigation.WorkingDirectory, argument, out var path) ? path : NameNotAllowed;

    /// <summary>The storage's entry for a user path, or null.</summary>
    public static ValueTask<StorageEntry?> StatAsync(this SessionContext s, UserPath path, CancellationToken ct) =>
        s.Storage.GetEntryAsync(path.ToStorage(s.User), ct);

    /// <summary>For commands that read: permission, path, and an existing entry.</summary>
    public static async ValueTask<Checked<Found>> FindReadableAsync(this SessionContext s, string argument, CancellationToken ct)
    {
        if (!s.User.CanRead)
        {
            return PermissionDenied;
        }

        var path = s.Resolve(argument);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        return await s.StatAsync(path.Value, ct) is { } entry ? new Found(path.Value, entry) : NoSuchEntry;
    }

    /// <summary>For commands about one file (SIZE, MDTM, RETR, hashes): permission, path, and a regular file.</summary>
    public static async ValueTask<Checked<Found>> FindFileAsync(this SessionContext s, string argument, CancellationToken ct)
    {
        if (!s.User.CanRead)
        {
            return PermissionDenied;
        }

        var path = s.Resolve(argument);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        return await s.StatAsync(path.Value, ct) switch
        {
            null => FtpReply.Of(ReplyCodes.FileUnavailable, "No such file."),
            { IsDirectory: true } => FtpReply.Of(ReplyCodes.FileUnavailable, "Not a regular file."),
            var entry => new Found(path.Value, entry),
        };
    }

    /// <summary>
    /// Where the last <paramref name="count"/> space-separated words of <paramref name="argument"/> begin (at the
    /// space before them): what lies before is a path, which may itself hold spaces.
    /// </summary>
    public static int LastWordsStart(string argument, int count)
    {
        var start = argument.TrimEnd().Length;
        for (var word = 0; word < count && start > 0; word++)
        {
            start = argument.LastIndexOf(' ', argument[..start].TrimEnd().Length - 1);
        }

        return Math.Max(start, 0);
    }

    /// <summary>"LIST -la dir": ls options some clients send are not part of the path.</summary>
    public static string StripListOptions(string argument)
    {
        var rest = argument.TrimStart();
        while (rest.StartsWith('-'))
        {
            var space = rest.IndexOf(' ', StringComparison.Ordinal);
            rest = space < 0 ? string.Empty : rest[(space + 1)..].TrimStart();
        }

        return rest;
    }
}

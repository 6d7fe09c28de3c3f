using System.Globalization;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Storage;
using FtpGateway.Ftp.Users;

namespace FtpGateway.Ftp.Commands;

/// <summary>
/// <c>onExistingFile</c>: devices reuse names (a recording every hour as <c>29M00S60.mp4</c>, a scanner's
/// <c>scan0001.pdf</c> after each reboot), and with the default the last writer wins. <c>Rename</c> stores the new
/// file as <c>name.1.ext</c>, <c>name.2.ext</c>, …; <c>Reject</c> answers 553 before 150. Either way the upload
/// commits only if its name is still free (a conditional create on S3 and Azure, an exclusive rename on disk).
/// </summary>
internal static class ExistingFiles
{
    /// <summary>The most numbered names tried before giving up (2^20: a device that stored a million files under one name).</summary>
    private const int MaxIndex = 1 << 20;

    /// <summary>What the policy makes of an upload to <paramref name="path"/>: the path to store at, the mode, a reservation, or a refusal.</summary>
    public static async ValueTask<Checked<(UserPath Path, UploadMode Mode, NameReservations.Reservation? Reservation)>> ApplyAsync(
        SessionContext s, UserPath path, UploadMode mode, CancellationToken ct)
    {
        switch (s.User.OnExistingFile)
        {
            case ExistingFilePolicy.Reject:
                if (await s.Storage.GetEntryAsync(path.ToStorage(s.User), ct) is { IsDirectory: false })
                {
                    return FtpReply.Of(ReplyCodes.FileNameNotAllowed, $"{path.Name} exists, and this user may not replace files; nothing stored.");
                }

                return (path, mode == UploadMode.Replace ? UploadMode.CreateNew : mode, null);
            case ExistingFilePolicy.Rename when mode == UploadMode.Replace:
                return await FreeNameAsync(s, path, ct) is var (free, reservation)
                    ? (free, UploadMode.CreateNew, reservation)
                    : FtpReply.Of(ReplyCodes.FileNameNotAllowed, $"No free name like {path.Name} is left; nothing stored.");
            default:
                return (path, mode, null);
        }
    }

    /// <summary>The key a path is reserved under on this gateway (its storage target and storage path).</summary>
    public static string ReservationKey(SessionContext s, UserPath path) =>
        (s.User.StorageTarget ?? StorageTargets.Default) + "\n" + path.ToStorage(s.User).Value;

    /// <summary><c>name.ext</c> → <c>name.3.ext</c>; <c>name</c> → <c>name.3</c>.</summary>
    public static string Numbered(string name, int index)
    {
        if (index == 0)
        {
            return name;
        }

        var dot = name.LastIndexOf('.');
        return dot > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{name[..dot]}.{index}{name[dot..]}")
            : string.Create(CultureInfo.InvariantCulture, $"{name}.{index}");
    }

    /// <summary>
    /// The first free name of <c>name</c>, <c>name.1</c>, <c>name.2</c>, … (free: nothing stored there and no upload of
    /// this gateway about to store there), reserved. A device that keeps reusing a name fills the numbers in order,
    /// so the search doubles the index while it is taken and then halves back: a few lookups, not one per file stored.
    /// </summary>
    private static async ValueTask<(UserPath, NameReservations.Reservation)?> FreeNameAsync(SessionContext s, UserPath path, CancellationToken ct)
    {
        var parent = path.Parent;
        string Key(int i) => ReservationKey(s, parent.Child(Numbered(path.Name, i)));
        async ValueTask<bool> TakenAsync(int i) =>
            s.Server.Names.IsHeld(Key(i)) || await s.Storage.GetEntryAsync(parent.Child(Numbered(path.Name, i)).ToStorage(s.User), ct) is not null;

        for (var attempt = 0; attempt < 16; attempt++)
        {
            var index = 0;
            if (await TakenAsync(0))
            {
                var (taken, free) = (0, 1);
                while (await TakenAsync(free))
                {
                    (taken, free) = (free, free * 2);
                    if (free > MaxIndex)
                    {
                        return null;
                    }
                }

                while (free - taken > 1)
                {
                    var middle = taken + ((free - taken) / 2);
                    (taken, free) = await TakenAsync(middle) ? (middle, free) : (taken, middle);
                }

                index = free;
            }

            if (s.Server.Names.TryReserve(Key(index)) is { } reservation)
            {
                return (parent.Child(Numbered(path.Name, index)), reservation);
            }
        }

        return null; // reserved by others at every turn
    }
}

using System.Globalization;
using System.Text;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Protocol;

/// <summary>Facts MLST/MLSD may report (RFC 3659 §7.5).</summary>
[Flags]
internal enum MlstFacts
{
    None = 0,
    Type = 1,
    Size = 2,
    Modify = 4,
    Perm = 8,
    Unique = 16,
    All = Type | Size | Modify | Perm | Unique,
}

/// <summary>The listing formats: LIST (the <c>ls -l</c> lines clients parse), NLST, and MLSx facts.</summary>
internal static class ListingFormatter
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>
    /// <c>-rw-r--r-- 1 ftp ftp 1234 Nov 22 15:06 name</c>: like <c>ls -l</c>, the time of day for entries
    /// from the last six months, the year otherwise.
    /// </summary>
    public static string FormatList(StorageEntry entry, DateTimeOffset now, bool writable, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var mode = entry.IsDirectory
            ? (writable ? "drwxr-xr-x" : "dr-xr-xr-x")
            : (writable ? "-rw-r--r--" : "-r--r--r--");
        var time = (entry.LastModified ?? DateTimeOffset.UnixEpoch).ToUniversalTime();
        var recent = time > now.AddDays(-182) && time <= now.AddDays(1);
        var when = recent
            ? string.Create(CultureInfo.InvariantCulture, $"{Months[time.Month - 1]} {time.Day,2} {time:HH:mm}")
            : string.Create(CultureInfo.InvariantCulture, $"{Months[time.Month - 1]} {time.Day,2}  {time.Year}");
        return string.Create(CultureInfo.InvariantCulture, $"{mode} 1 ftp ftp {entry.Size,13} {when} {name ?? entry.Name}");
    }

    /// <summary>RFC 3659 §2.3 time-val: <c>YYYYMMDDHHMMSS[.sss]</c>, always UTC.</summary>
    public static string FormatTime(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return utc.Millisecond == 0
            ? utc.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)
            : utc.ToString("yyyyMMddHHmmss.fff", CultureInfo.InvariantCulture);
    }

    public static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(
            text,
            ["yyyyMMddHHmmss", "yyyyMMddHHmmss.f", "yyyyMMddHHmmss.ff", "yyyyMMddHHmmss.fff"],
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
            out time);

    /// <summary>An MLSx fact line (RFC 3659 §7.2): <c>type=file;size=3;modify=...;perm=r; name</c>.</summary>
    public static string FormatFacts(StorageEntry entry, MlstFacts facts, string permissions, string name)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var sb = new StringBuilder(96);
        if ((facts & MlstFacts.Type) != 0)
        {
            sb.Append("type=").Append(entry.IsDirectory ? "dir" : "file").Append(';');
        }

        if ((facts & MlstFacts.Size) != 0 && !entry.IsDirectory)
        {
            sb.Append("size=").Append(entry.Size.ToString(CultureInfo.InvariantCulture)).Append(';');
        }

        if ((facts & MlstFacts.Modify) != 0 && entry.LastModified is { } modified)
        {
            sb.Append("modify=").Append(FormatTime(modified)).Append(';');
        }

        if ((facts & MlstFacts.Perm) != 0)
        {
            sb.Append("perm=").Append(permissions).Append(';');
        }

        if ((facts & MlstFacts.Unique) != 0 && entry.UniqueId is { } unique)
        {
            sb.Append("unique=").Append(unique).Append(';');
        }

        return sb.Append(' ').Append(name).ToString();
    }

    /// <summary>The FEAT line for MLST: supported facts, those enabled marked with '*' (RFC 3659 §7.8).</summary>
    public static string FeatureLine(MlstFacts enabled, MlstFacts supported)
    {
        var sb = new StringBuilder("MLST ");
        foreach (var (fact, name) in FactNames.Where(f => (supported & f.Fact) != 0))
        {
            sb.Append(name).Append((enabled & fact) != 0 ? "*;" : ";");
        }

        return sb.ToString();
    }

    /// <summary>Parses <c>OPTS MLST type;size;</c>; unknown facts are ignored (RFC 3659 §7.9).</summary>
    public static MlstFacts ParseFacts(string text)
    {
        var result = MlstFacts.None;
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            foreach (var (fact, name) in FactNames)
            {
                if (part.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    result |= fact;
                }
            }
        }

        return result;
    }

    public static string FactsText(MlstFacts facts)
    {
        var sb = new StringBuilder();
        foreach (var (fact, name) in FactNames)
        {
            if ((facts & fact) != 0)
            {
                sb.Append(name).Append(';');
            }
        }

        return sb.ToString();
    }

    private static readonly (MlstFacts Fact, string Name)[] FactNames =
    [
        (MlstFacts.Type, "type"), (MlstFacts.Size, "size"), (MlstFacts.Modify, "modify"), (MlstFacts.Perm, "perm"), (MlstFacts.Unique, "unique"),
    ];
}

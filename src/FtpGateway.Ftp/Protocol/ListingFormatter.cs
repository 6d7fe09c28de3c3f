using System.Globalization;
using System.Text;
using System.Text.Unicode;
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
    public static string FormatList(StorageEntry entry, DateTimeOffset now, bool writable, string? name = null) =>
        Text((destination, out written) => TryWriteList(destination, entry, now, writable, name ?? entry.Name, out written));

    /// <summary>One LIST line and its CRLF, as UTF-8, into <paramref name="destination"/>; false when it does not fit.</summary>
    public static bool TryWriteList(Span<byte> destination, StorageEntry entry, DateTimeOffset now, bool writable, string name, out int written)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var mode = entry.IsDirectory
            ? (writable ? "drwxr-xr-x" : "dr-xr-xr-x")
            : (writable ? "-rw-r--r--" : "-r--r--r--");
        var time = (entry.LastModified ?? DateTimeOffset.UnixEpoch).ToUniversalTime();
        var month = Months[time.Month - 1];
        return time > now.AddDays(-182) && time <= now.AddDays(1)
            ? Utf8.TryWrite(destination, CultureInfo.InvariantCulture, $"{mode} 1 ftp ftp {entry.Size,13} {month} {time.Day,2} {time.Hour:D2}:{time.Minute:D2} {name}\r\n", out written)
            : Utf8.TryWrite(destination, CultureInfo.InvariantCulture, $"{mode} 1 ftp ftp {entry.Size,13} {month} {time.Day,2}  {time.Year} {name}\r\n", out written);
    }

    /// <summary>A line written by <paramref name="write"/> (with its CRLF) as a string without the CRLF: for the control connection.</summary>
    private static string Text(LineWriter write)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            return write(buffer, out var written) ? Encoding.UTF8.GetString(buffer, 0, written - 2) : throw new InvalidOperationException("A listing line longer than 16 KiB");
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private delegate bool LineWriter(Span<byte> destination, out int written);

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
    public static string FormatFacts(StorageEntry entry, MlstFacts facts, string permissions, string name) =>
        Text((destination, out written) => TryWriteFacts(destination, entry, facts, permissions, name, out written));

    /// <summary>One MLSx fact line and its CRLF, as UTF-8, into <paramref name="destination"/>; false when it does not fit.</summary>
    public static bool TryWriteFacts(Span<byte> destination, StorageEntry entry, MlstFacts facts, string permissions, string name, out int written)
    {
        ArgumentNullException.ThrowIfNull(entry);
        written = 0;
        var type = (facts & MlstFacts.Type) != 0;
        var size = (facts & MlstFacts.Size) != 0 && !entry.IsDirectory;
        var modified = (facts & MlstFacts.Modify) != 0 ? entry.LastModified?.ToUniversalTime() : null;
        var perm = (facts & MlstFacts.Perm) != 0;
        var unique = (facts & MlstFacts.Unique) != 0 ? entry.UniqueId : null;
        return (!type || Append(destination[written..], ref written, $"type={(entry.IsDirectory ? "dir" : "file")};"))
            && (!size || Append(destination[written..], ref written, $"size={entry.Size};"))
            && (modified is not { } m || (m.Millisecond == 0
                ? Append(destination[written..], ref written, $"modify={m:yyyyMMddHHmmss};")
                : Append(destination[written..], ref written, $"modify={m:yyyyMMddHHmmss.fff};")))
            && (!perm || Append(destination[written..], ref written, $"perm={permissions};"))
            && (unique is null || Append(destination[written..], ref written, $"unique={unique};"))
            && Append(destination[written..], ref written, $" {name}\r\n");
    }

    /// <summary>Appends <paramref name="text"/>, formatted straight into <paramref name="free"/> (the rest of the line's buffer).</summary>
    private static bool Append(Span<byte> free, ref int written, [System.Runtime.CompilerServices.InterpolatedStringHandlerArgument(nameof(free))] ref Utf8.TryWriteInterpolatedStringHandler text)
    {
        if (!Utf8.TryWrite(free, ref text, out var n))
        {
            return false;
        }

        written += n;
        return true;
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

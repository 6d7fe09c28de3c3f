namespace FtpGateway.Ftp.Checks;

/// <summary>
/// The first bytes the common file types start with (checkContentType): a file named for one of these types must
/// start like it. Types not listed here are not checked.
/// </summary>
internal static class ContentSignatures
{
    /// <summary>How many leading bytes the check reads.</summary>
    public const int HeadLength = 512;

    /// <summary>Null when <paramref name="head"/> fits <paramref name="extension"/> (or the type is not one this check knows); else the type's name.</summary>
    public static string? Mismatch(string extension, ReadOnlySpan<byte> head) => extension switch
    {
        "jpg" or "jpeg" or "jpe" => head.StartsWith((byte[])[0xFF, 0xD8, 0xFF]) ? null : "JPEG",
        "png" => head.StartsWith((byte[])[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) ? null : "PNG",
        "gif" => head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8) ? null : "GIF",
        "tif" or "tiff" => head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8) || head.StartsWith("II+\0"u8) || head.StartsWith("MM\0+"u8) ? null : "TIFF",
        "mp4" or "m4v" or "mov" or "3gp" => IsIsoMedia(head) ? null : extension == "mov" ? "QuickTime" : "MP4",
        "avi" => head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("AVI "u8) ? null : "AVI",
        "pdf" => head.StartsWith("%PDF-"u8) ? null : "PDF",
        "zip" or "docx" or "xlsx" or "pptx" => head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8) ? null : "ZIP",
        "gz" or "gzip" or "tgz" => head.StartsWith((byte[])[0x1F, 0x8B]) ? null : "GZIP",
        "xml" => IsXml(head) ? null : "XML",
        "txt" or "csv" or "log" => IsText(head) ? null : "text",
        _ => null,
    };

    /// <summary>ISO base media (MP4, MOV, 3GP): a box whose type is ftyp, or a QuickTime file's first atoms.</summary>
    private static bool IsIsoMedia(ReadOnlySpan<byte> head) =>
        head.Length >= 8 && (head[4..8].SequenceEqual("ftyp"u8) || head[4..8].SequenceEqual("moov"u8) || head[4..8].SequenceEqual("mdat"u8)
            || head[4..8].SequenceEqual("wide"u8));

    private static bool IsXml(ReadOnlySpan<byte> head)
    {
        if (IsUtf16(head))
        {
            return true; // UTF-16 with its byte order mark: an XML declaration in UTF-16 follows
        }

        var text = head.StartsWith((byte[])[0xEF, 0xBB, 0xBF]) ? head[3..] : head;
        var i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }

        return i < text.Length && text[i] == (byte)'<';
    }

    private static bool IsUtf16(ReadOnlySpan<byte> head) => head.StartsWith((byte[])[0xFF, 0xFE]) || head.StartsWith((byte[])[0xFE, 0xFF]);

    /// <summary>
    /// Text: UTF-16 with its byte order mark (Excel's "Unicode text"), or bytes without NUL or other control characters
    /// than tab, CR, LF, FF and ESC (colour codes in logs); any 8-bit encoding passes.
    /// </summary>
    private static bool IsText(ReadOnlySpan<byte> head)
    {
        if (IsUtf16(head))
        {
            return true;
        }

        foreach (var b in head)
        {
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\r' or (byte)'\n' or 0x0C or 0x1B))
            {
                return false;
            }
        }

        return true;
    }
}

using System.Globalization;

namespace FtpGateway.Ftp;

/// <summary>A range of TCP ports, both ends included (<c>50000-50099</c>).</summary>
internal readonly record struct PortRange(int Start, int End)
{
    public int Count => End - Start + 1;

    public bool Contains(int port) => port >= Start && port <= End;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Start}-{End}");

    /// <summary>Parses <paramref name="text"/> (empty: null); a bad range adds an error naming <paramref name="key"/>.</summary>
    public static PortRange? Parse(string? text, string key, ICollection<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var end)
            && start is >= 1024 and <= 65535 && end >= start && end <= 65535)
        {
            return new PortRange(start, end);
        }

        errors.Add(parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var first) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var last) && first > last
            ? $"{key} '{text}' is reversed: write the lower port first ({last}-{first})"
            : $"{key} '{text}' must look like 50000-50099 (ports 1024-65535)");
        return null;
    }
}

using FtpGateway.Ftp.Users;

namespace FtpGateway.Ftp.Checks;

/// <summary>
/// What a user's uploads must pass before they commit, in this order: the file type by name (553 before 150), then
/// after the data the size (<see cref="MinBytes"/>), the content type (<see cref="CheckContentType"/>) and the
/// scanner's verdict (<see cref="Scan"/>); what fails is never stored.
/// </summary>
internal sealed record UploadChecks(IReadOnlySet<string> Allowed, IReadOnlySet<string> Denied, bool CheckContentType, long? MinBytes, bool Scan)
{
    public static UploadChecks None { get; } = new(new HashSet<string>(), new HashSet<string>(), false, null, true);

    /// <summary>The user's fields as checks; invalid ones add errors naming them.</summary>
    public static UploadChecks Parse(UserOptions u, string where, List<string> errors)
    {
        HashSet<string> Extensions(List<string> list, string field)
        {
            var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var item in list)
            {
                var extension = item.Trim().TrimStart('.').ToLowerInvariant();
                if (extension.Length == 0 || extension.Any(c => c is '/' or '\\' or '*' or '?' || char.IsWhiteSpace(c) || char.IsControl(c)))
                {
                    errors.Add($"{where}:{field} '{item}' is not a file name extension (jpg, mp4, pdf)");
                }
                else
                {
                    set.Add(extension);
                }
            }

            return set;
        }

        var allowed = Extensions(u.AllowedFileTypes, "AllowedFileTypes");
        var denied = Extensions(u.DeniedFileTypes, "DeniedFileTypes");
        if (u.MinUploadBytes is < 0)
        {
            errors.Add($"{where}:MinUploadBytes must not be negative");
        }

        return new UploadChecks(allowed, denied, u.CheckContentType, u.MinUploadBytes is > 0 ? u.MinUploadBytes : null, u.Scan);
    }

    /// <summary>The extension of a file name as the rules compare it: after the last dot, lower case; empty without one.</summary>
    public static string ExtensionOf(string name)
    {
        name = name.TrimEnd('.', ' '); // "evil.exe." and "evil.exe " are .exe where Windows opens them
        var dot = name.LastIndexOf('.');
        return dot <= 0 || dot == name.Length - 1 ? string.Empty : name[(dot + 1)..].ToLowerInvariant();
    }

    /// <summary>Null when the name may be stored; else why not (the text of the 553).</summary>
    public string? RefuseName(string name)
    {
        var extension = ExtensionOf(name);
        if (Denied.Contains(extension))
        {
            return $"Files of type .{extension} may not be stored here.";
        }

        return Allowed.Count > 0 && !Allowed.Contains(extension)
            ? extension.Length == 0
                ? $"Files without an extension may not be stored here (allowed: {string.Join(", ", Allowed.Order(StringComparer.Ordinal))})."
                : $"Files of type .{extension} may not be stored here (allowed: {string.Join(", ", Allowed.Order(StringComparer.Ordinal))})."
            : null;
    }
}

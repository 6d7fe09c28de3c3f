using System.Security.Cryptography;
using System.Text;

namespace FtpGateway.Api;

/// <summary>
/// The operator API's bearer tokens (<c>Management:ApiKeys:N</c>), never in plain text: each entry is
/// <c>sha256:&lt;64 hex digits&gt;</c> (the SHA-256 of the token, from <c>printf %s TOKEN | sha256sum</c>) or
/// <c>file:&lt;path&gt;</c> (a file holding the token or its <c>sha256:</c> form — a mounted Secret; read again at
/// every call, so a rotated Secret takes effect without a restart). No entry: no API.
/// </summary>
internal sealed class ApiKeys
{
    private readonly IReadOnlyList<string> _entries;

    private ApiKeys(IReadOnlyList<string> entries) => _entries = entries;

    public bool Enabled => _entries.Count > 0;

    /// <summary>Parses the entries; every invalid one throws, named (<c>Management:ApiKeys:N</c>).</summary>
    public static ApiKeys Parse(IReadOnlyList<string> entries)
    {
        var errors = new List<string>();
        for (var i = 0; i < entries.Count; i++)
        {
            try
            {
                _ = Hash(entries[i], i);
            }
            catch (InvalidOperationException ex)
            {
                errors.Add(ex.Message);
            }
        }

        return errors.Count > 0 ? throw new InvalidOperationException(string.Join("; ", errors)) : new ApiKeys(entries);
    }

    /// <summary>The index of the key the <c>Authorization: Bearer</c> header carries; null when none matches.</summary>
    public int? Match(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || authorization.Length > 4096)
        {
            return null;
        }

        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim()));
        int? match = null;
        for (var i = 0; i < _entries.Count; i++)
        {
            byte[] hash;
            try
            {
                hash = Hash(_entries[i], i);
            }
            catch (InvalidOperationException)
            {
                continue; // a key file that went away: that key no longer opens anything
            }

            if (CryptographicOperations.FixedTimeEquals(hash, presented))
            {
                match ??= i;
            }
        }

        return match;
    }

    private static byte[] Hash(string entry, int index)
    {
        var key = $"Management:ApiKeys:{index}";
        if (entry.StartsWith("file:", StringComparison.Ordinal))
        {
            string content;
            try
            {
                content = File.ReadAllText(entry[5..]).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"{key}: the file '{entry[5..]}' cannot be read ({ex.Message})", ex);
            }

            if (content.Length == 0)
            {
                throw new InvalidOperationException($"{key}: the file '{entry[5..]}' is empty");
            }

            return content.StartsWith("sha256:", StringComparison.Ordinal) ? FromHex(content, key) : SHA256.HashData(Encoding.UTF8.GetBytes(content));
        }

        return entry.StartsWith("sha256:", StringComparison.Ordinal)
            ? FromHex(entry, key)
            : throw new InvalidOperationException($"{key} must be sha256:<the token's SHA-256 in hex> or file:<path>; a token in plain text is refused");
    }

    private static byte[] FromHex(string value, string key)
    {
        var hex = value["sha256:".Length..].Trim();
        return hex.Length == 64 && hex.All(Uri.IsHexDigit)
            ? Convert.FromHexString(hex)
            : throw new InvalidOperationException($"{key}: sha256: must be followed by 64 hex digits (printf %s TOKEN | sha256sum)");
    }
}

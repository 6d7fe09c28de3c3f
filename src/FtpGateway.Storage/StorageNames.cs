using System.Buffers;

namespace FtpGateway.Storage;

/// <summary>
/// Names the gateway keeps for itself in every storage: anything beginning with ".ftpgw-" (upload temporaries,
/// the gateway's own bookkeeping). They are never listed, and no client can create or address them.
/// </summary>
public static class StorageNames
{
    public const string ReservedPrefix = ".ftpgw-";

    /// <summary>Separators and control characters (<see cref="char.IsControl(char)"/>): FTP can neither carry nor address them in a name.</summary>
    private static readonly SearchValues<char> NotInAName = SearchValues.Create(
        "/\\" + string.Concat(Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Select(c => (char)c)));

    /// <summary>
    /// The child path for a name found in a directory of a store; false for names the gateway keeps for itself
    /// (<paramref name="unaddressable"/> false) and for names FTP cannot carry or address — empty, "." or "..", a
    /// separator, a control character (<paramref name="unaddressable"/> true). Neither kind is listed.
    /// </summary>
    public static bool TryChild(StoragePath directory, string name, out StoragePath child, out bool unaddressable)
    {
        ArgumentNullException.ThrowIfNull(name);
        child = default;
        unaddressable = name.Length == 0 || name is "." or ".." || name.AsSpan().ContainsAny(NotInAName);
        if (unaddressable || IsReserved(name))
        {
            return false;
        }

        child = directory.ChildUnchecked(name);
        return true;
    }

    public static bool IsReserved(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.StartsWith(ReservedPrefix, StringComparison.Ordinal);
    }

    /// <summary>
    /// An upload temporary beside its target: how versions before 2026-12 wrote every upload, how uploads to a
    /// directory on another mount than the storage root are written where the disk has no unnamed files, and the
    /// name an unnamed upload has for the moment between its link and its rename.
    /// </summary>
    public static bool IsTemporaryBesideTarget(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return IsReserved(name) && name.EndsWith(".part", StringComparison.Ordinal);
    }
}

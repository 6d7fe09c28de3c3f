namespace FtpGateway.Storage;

/// <summary>
/// Names the gateway keeps for itself in every storage: anything beginning with ".ftpgw-" (upload temporaries,
/// the gateway's own bookkeeping). They are never listed, and no client can create or address them.
/// </summary>
public static class StorageNames
{
    public const string ReservedPrefix = ".ftpgw-";

    public static bool IsReserved(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.StartsWith(ReservedPrefix, StringComparison.Ordinal);
    }

    /// <summary>
    /// An upload temporary beside its target: how versions before 2026-12 wrote every upload, and how uploads to a
    /// directory on another mount than the storage root are written now.
    /// </summary>
    public static bool IsTemporaryBesideTarget(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return IsReserved(name) && name.EndsWith(".part", StringComparison.Ordinal);
    }
}

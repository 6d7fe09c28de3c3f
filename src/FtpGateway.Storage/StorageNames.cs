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

    /// <summary>An upload temporary as versions before 2026-12 wrote it, beside its target.</summary>
    public static bool IsLegacyTemporary(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return IsReserved(name) && name.EndsWith(".part", StringComparison.Ordinal);
    }
}

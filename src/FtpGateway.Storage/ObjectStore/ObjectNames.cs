namespace FtpGateway.Storage.ObjectStore;

/// <summary>Which names found in a store FTP can show and address.</summary>
public static class ObjectNames
{
    /// <summary>
    /// The child path for a name found under a directory's prefix; false for names the gateway keeps for itself
    /// (<paramref name="unaddressable"/> false) and for names FTP cannot carry or address — empty, "." or "..", a
    /// separator, a control character (<paramref name="unaddressable"/> true). Neither kind is listed.
    /// </summary>
    public static bool TryChild(StoragePath directory, string name, out StoragePath child, out bool unaddressable)
    {
        ArgumentNullException.ThrowIfNull(name);
        child = default;
        unaddressable = name.Length == 0 || name is "." or ".." || name.Contains('/', StringComparison.Ordinal)
            || name.Contains('\\', StringComparison.Ordinal) || name.Any(char.IsControl);
        if (unaddressable || StorageNames.IsReserved(name))
        {
            return false;
        }

        child = directory.Child(name);
        return true;
    }
}

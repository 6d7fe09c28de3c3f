namespace FtpGateway.Storage.ObjectStore;

/// <summary>Which names found in a store FTP can show and address.</summary>
public static class ObjectNames
{
    /// <summary>
    /// The child path for a name found under a directory's prefix; false for names FTP cannot address (empty,
    /// "." or "..", a separator, a control character), which are therefore not listed.
    /// </summary>
    public static bool TryChild(StoragePath directory, string name, out StoragePath child)
    {
        ArgumentNullException.ThrowIfNull(name);
        child = default;
        if (name.Length == 0 || name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal) || name.Any(char.IsControl))
        {
            return false;
        }

        child = directory.Child(name);
        return true;
    }
}

namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// The one place a path becomes a key: under the prefix, without a leading slash; a directory's children under
/// its key and "/"; its marker as the store names markers; and whether the store can hold a key at all.
/// </summary>
internal sealed class ObjectKeys(ObjectStoreSettings settings, IObjectStore store)
{
    public string Key(StoragePath path) => settings.KeyPrefix + path.Value[1..];

    /// <summary>The key prefix of a directory's children.</summary>
    public string DirectoryPrefix(StoragePath path) => path.IsRoot ? settings.KeyPrefix : Key(path) + "/";

    /// <summary>The key of a directory's marker (the root's is the prefix itself).</summary>
    public string MarkerKey(StoragePath directory) => directory.IsRoot ? settings.KeyPrefix : store.MarkerKey(Key(directory));

    /// <summary>Whether the store can hold <paramref name="key"/> (<see cref="ObjectStoreSettings.MaxKeyLength"/>).</summary>
    public bool Holds(string key) =>
        (settings.KeyLengthInBytes ? System.Text.Encoding.UTF8.GetByteCount(key) : key.Length) <= settings.MaxKeyLength;

    /// <summary>A name too long for the store is one the client cannot have (553), never a store failure (451).</summary>
    public void RequireStorable(StoragePath path, string key)
    {
        if (!Holds(key))
        {
            throw new StorageException(StorageErrorKind.InvalidName, $"'{path}' is longer than the {settings.MaxKeyLength} {(settings.KeyLengthInBytes ? "bytes" : "characters")} a key may have");
        }
    }

    /// <summary>Nothing the store holds has a name it cannot hold: such a path is not there (550).</summary>
    public void RequireHeld(StoragePath path)
    {
        if (!path.IsRoot && !Holds(Key(path)))
        {
            throw StorageException.NotFound(path);
        }
    }
}

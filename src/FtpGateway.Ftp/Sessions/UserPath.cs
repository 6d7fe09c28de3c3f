using FtpGateway.Ftp.Users;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Sessions;

/// <summary>
/// A path as the logged-in client sees it: "/" is the user's root. The storage never sees one: it becomes a
/// <see cref="StoragePath"/> only through <see cref="ToStorage"/>, and replies show user paths (and the bare
/// names of listed entries), never a storage path: the jail's location can never reach a client.
/// </summary>
internal readonly record struct UserPath
{
    private readonly StoragePath _path;

    private UserPath(StoragePath path) => _path = path;

    public static UserPath Root { get; } = new(StoragePath.Root);

    /// <summary>"/" or "/a/b".</summary>
    public string Value => _path.Value;

    public bool IsRoot => _path.IsRoot;

    /// <summary>The last segment; empty for the root.</summary>
    public string Name => _path.Name;

    public UserPath Parent => new(_path.Parent);

    public UserPath Child(string name) => new(_path.Child(name));

    /// <summary>
    /// Resolves what the client typed against its working directory (see <see cref="StoragePath.TryResolve"/>:
    /// ".." never climbs above the user's root; control characters make the path invalid). A name the gateway
    /// keeps for itself (<see cref="StorageNames"/>) makes it invalid too, so it is refused before anything starts.
    /// </summary>
    public static bool TryResolve(UserPath workingDirectory, string input, out UserPath result)
    {
        var ok = StoragePath.TryResolve(workingDirectory._path, input, out var path) && !path.Segments.Any(StorageNames.IsReserved);
        result = new UserPath(path);
        return ok;
    }

    /// <summary>The one conversion to the storage's namespace: the path placed under the user's root.</summary>
    public StoragePath ToStorage(FtpUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Root.Append(_path);
    }

    /// <summary>RFC 959 Appendix II: a path in a 257 reply is quoted, embedded quotes doubled.</summary>
    public string Quoted() => "\"" + Value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public override string ToString() => Value;
}

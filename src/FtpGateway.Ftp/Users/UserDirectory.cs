using System.Security.Cryptography;
using System.Text;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Users;

/// <summary>A logged-in user: who, where their root is in the storage, and what they may do.</summary>
public sealed record FtpUser(string Name, StoragePath Root, UserPermissions Permissions, bool IsAnonymous)
{
    public bool CanRead => Permissions != UserPermissions.WriteOnly;

    public bool CanWrite => Permissions != UserPermissions.ReadOnly;

    /// <summary>Delete, rename and overwrite-by-name management; a drop box may only add.</summary>
    public bool CanModify => Permissions == UserPermissions.Full;
}

/// <summary>The configured users. Built once at start-up; invalid entries stop the host.</summary>
public sealed class UserDirectory
{
    private readonly Dictionary<string, (UserOptions Options, FtpUser User)> _users = new(StringComparer.Ordinal);
    private readonly FtpUser? _anonymous;
    private readonly string _decoyHash;

    public UserDirectory(IEnumerable<UserOptions> users, AnonymousOptions anonymous)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(anonymous);
        var index = 0;
        foreach (var u in users)
        {
            var where = $"Users:{index++}";
            if (string.IsNullOrWhiteSpace(u.Name))
            {
                throw new InvalidOperationException($"{where}:Name is required");
            }

            if (u.PasswordHash is null && u.Password is null)
            {
                throw new InvalidOperationException($"{where} ('{u.Name}') needs Password or PasswordHash");
            }

            if (u.PasswordHash is not null && !PasswordHasher.IsWellFormed(u.PasswordHash))
            {
                throw new InvalidOperationException($"{where}:PasswordHash is not a hash from 'FtpGateway hash-password'");
            }

            if (!_users.TryAdd(u.Name, (u, new FtpUser(u.Name, ParseRoot(u.Root, where), u.Permissions, false))))
            {
                throw new InvalidOperationException($"{where}: user '{u.Name}' is configured twice");
            }
        }

        if (anonymous.Enabled)
        {
            _anonymous = new FtpUser("anonymous", ParseRoot(anonymous.Root, "Anonymous"), UserPermissions.ReadOnly, true);
        }

        // What a failure costs must not tell whether the name exists: names without a hash (unknown names, plain
        // passwords) are checked against a decoy with the iterations most users' hashes have.
        var iterations = _users.Values.Select(u => PasswordHasher.Iterations(u.Options.PasswordHash)).OfType<int>()
            .GroupBy(i => i).OrderByDescending(g => g.Count()).Select(g => g.Key).DefaultIfEmpty(PasswordHasher.DefaultIterations).First();
        _decoyHash = PasswordHasher.Decoy(iterations);
    }

    public int Count => _users.Count;

    public bool AnonymousEnabled => _anonymous is not null;

    public static bool IsAnonymousName(string name) =>
        name.Equals("anonymous", StringComparison.OrdinalIgnoreCase) || name.Equals("ftp", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The user if the password matches; null otherwise. Every failure costs one key derivation with the same
    /// parameters — an unknown name, a wrong plain password and a wrong hashed one alike — so the time a failure
    /// takes does not tell whether the name exists.
    /// </summary>
    public FtpUser? Authenticate(string name, string password)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(password);
        if (_anonymous is not null && IsAnonymousName(name) && !_users.ContainsKey(name))
        {
            return _anonymous;
        }

        if (!_users.TryGetValue(name, out var entry))
        {
            PasswordHasher.Verify(password, _decoyHash);
            return null;
        }

        if (entry.Options.PasswordHash is { } hash)
        {
            return PasswordHasher.Verify(password, hash) ? entry.User : null;
        }

        if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(entry.Options.Password!)))
        {
            return entry.User;
        }

        PasswordHasher.Verify(password, _decoyHash);
        return null;
    }

    private static StoragePath ParseRoot(string? root, string where)
    {
        var text = string.IsNullOrWhiteSpace(root) ? "/" : root;
        if (!StoragePath.TryResolve(StoragePath.Root, text, out var path))
        {
            throw new InvalidOperationException($"{where}:Root '{root}' is not a valid path");
        }

        return path;
    }
}

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
    }

    public int Count => _users.Count;

    public bool AnonymousEnabled => _anonymous is not null;

    public static bool IsAnonymousName(string name) =>
        name.Equals("anonymous", StringComparison.OrdinalIgnoreCase) || name.Equals("ftp", StringComparison.OrdinalIgnoreCase);

    /// <summary>The user if the password matches; null otherwise (unknown users cost the same time as wrong passwords).</summary>
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
            return null;
        }

        var ok = entry.Options.PasswordHash is { } hash
            ? PasswordHasher.Verify(password, hash)
            : CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(entry.Options.Password!));
        return ok ? entry.User : null;
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

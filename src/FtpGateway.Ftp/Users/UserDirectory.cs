using System.Security.Cryptography;
using System.Text;
using FtpGateway.Ftp.Security;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Users;

/// <summary>A logged-in user: who, where their root is in the storage, what they may do, and their limits.</summary>
internal sealed record FtpUser(string Name, StoragePath Root, UserPermissions Permissions, bool IsAnonymous)
{
    /// <summary>The storage target's name; null: the default storage.</summary>
    public string? StorageTarget { get; init; }

    public AddressList AllowedAddresses { get; init; } = AddressList.Empty;

    public int? MaxSessions { get; init; }

    public long? MaxUploadBytes { get; init; }

    public long? UploadBytesPerSecond { get; init; }

    public long? DownloadBytesPerSecond { get; init; }

    public bool RequireTls { get; init; }

    /// <summary>The code page the device sends file names in; null: UTF-8.</summary>
    public Encoding? FileNameEncoding { get; init; }

    /// <summary>What this user's uploads must pass before they commit: file types, content type, a minimum size, the scanner.</summary>
    public Checks.UploadChecks Checks { get; init; } = FtpGateway.Ftp.Checks.UploadChecks.None;

    /// <summary>Uploads into a missing directory create it (and MKD its parents); null: Ftp:CreateDirectories.</summary>
    public bool? CreateDirectories { get; init; }

    /// <summary>What a STOR to a name that exists does.</summary>
    public ExistingFilePolicy OnExistingFile { get; init; } = ExistingFilePolicy.Overwrite;

    /// <summary>How long a WriteOnly user may delete and rename what it stored itself (zero: never).</summary>
    public TimeSpan OwnUploadsEditableFor { get; init; }

    /// <summary>The guardrails against looping devices.</summary>
    public Guardrails Guardrails { get; init; } = Guardrails.None;

    /// <summary>Where the user came from: configuration and the users file are reloaded; a hook's users are not.</summary>
    public bool FromHook { get; init; }

    /// <summary>A digest of every setting of the entry (password included): a reload that changes it ends the user's sessions.</summary>
    internal string Fingerprint { get; init; } = string.Empty;

    public bool CanRead => Permissions != UserPermissions.WriteOnly;

    public bool CanWrite => Permissions != UserPermissions.ReadOnly;

    /// <summary>Delete, rename and overwrite-by-name management; a drop box may only add.</summary>
    public bool CanModify => Permissions == UserPermissions.Full;
}

/// <summary>The configured users. Built once at start-up; invalid entries stop the host.</summary>
internal sealed class UserDirectory
{
    private readonly Dictionary<string, (UserOptions Options, FtpUser User)> _users = new(StringComparer.Ordinal);
    private readonly FtpUser? _anonymous;
    private readonly string _decoyHash;

    public UserDirectory(IEnumerable<UserOptions> users, AnonymousOptions anonymous)
        : this((users ?? throw new ArgumentNullException(nameof(users))).Select((u, i) => (u, $"Users:{i}")), anonymous, 0)
    {
    }

    /// <summary>Users with where each was defined (<c>Users:3</c>, <c>users file entry 7</c>), for the error messages.</summary>
    public static UserDirectory Create(IEnumerable<(UserOptions Options, string Where)> users, AnonymousOptions anonymous) => new(users, anonymous, 0);

    private UserDirectory(IEnumerable<(UserOptions Options, string Where)> users, AnonymousOptions anonymous, int _)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(anonymous);
        foreach (var (u, where) in users)
        {
            var user = Build(u, where);
            if (!_users.TryAdd(u.Name, (u, user)))
            {
                throw new InvalidOperationException($"{where}: user '{u.Name}' is defined twice");
            }
        }

        if (anonymous.Enabled)
        {
            _anonymous = BuildAnonymous(anonymous);
        }

        // What a failure costs must not tell whether the name exists: names without a hash (unknown names, plain
        // passwords) are checked against a decoy with the iterations most users' hashes have.
        var iterations = _users.Values.Select(u => PasswordHasher.Iterations(u.Options.PasswordHash)).OfType<int>()
            .GroupBy(i => i).OrderByDescending(g => g.Count()).Select(g => g.Key).DefaultIfEmpty(PasswordHasher.DefaultIterations).First();
        _decoyHash = PasswordHasher.Decoy(iterations);
    }

    /// <summary>Checks one user's settings (an exception names <paramref name="where"/> and the field) and builds it.</summary>
    public static FtpUser Build(UserOptions u, string where, bool requirePassword = true)
    {
        ArgumentNullException.ThrowIfNull(u);
        if (string.IsNullOrWhiteSpace(u.Name))
        {
            throw new InvalidOperationException($"{where}:Name is required");
        }

        if (requirePassword && u.PasswordHash is null && u.Password is null)
        {
            throw new InvalidOperationException($"{where} ('{u.Name}') needs Password or PasswordHash");
        }

        if (u.PasswordHash is not null && !PasswordHasher.IsWellFormed(u.PasswordHash))
        {
            throw new InvalidOperationException($"{where}:PasswordHash is not a hash from 'FtpGateway hash-password'");
        }

        var errors = new List<string>();
        var allowed = AddressList.Parse(u.AllowedAddresses, $"{where}:AllowedAddresses", errors);
        if (u.MaxSessions is < 1 || u.MaxUploadBytes is < 0 || u.UploadBytesPerSecond is < 1 || u.DownloadBytesPerSecond is < 1)
        {
            errors.Add($"{where} ('{u.Name}'): MaxSessions, UploadBytesPerSecond and DownloadBytesPerSecond must be at least 1, MaxUploadBytes not negative");
        }

        var checks = Checks.UploadChecks.Parse(u, where, errors);
        if (!Enum.IsDefined(u.OnExistingFile))
        {
            errors.Add($"{where}:OnExistingFile must be Overwrite, Rename or Reject");
        }

        CheckDeviceLimits(u.OwnUploadsEditableFor, u.MaxFilesPerMinute, u.MaxFilesPerDay, u.MaxBytesPerDay, where, errors);

        if (u.FileNameEncoding is { Length: > 0 } encoding && NameEncodings.Find(encoding) is null)
        {
            errors.Add($"{where}:FileNameEncoding '{encoding}' is not an encoding this gateway knows (e.g. gb18030, shift_jis, latin1, windows-1252)");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        return new FtpUser(u.Name, ParseRoot(u.Root, where, u.Name), u.Permissions, false)
        {
            StorageTarget = string.IsNullOrWhiteSpace(u.Storage) ? null : u.Storage,
            AllowedAddresses = allowed,
            MaxSessions = u.MaxSessions,
            MaxUploadBytes = u.MaxUploadBytes,
            UploadBytesPerSecond = u.UploadBytesPerSecond,
            DownloadBytesPerSecond = u.DownloadBytesPerSecond,
            RequireTls = u.RequireTls,
            Checks = checks,
            CreateDirectories = u.CreateDirectories,
            OnExistingFile = u.OnExistingFile,
            OwnUploadsEditableFor = EditableFor(u.Permissions, u.OwnUploadsEditableFor),
            Guardrails = new Guardrails(u.MaxFilesPerMinute, u.MaxFilesPerDay, u.MaxBytesPerDay),
            FileNameEncoding = string.IsNullOrWhiteSpace(u.FileNameEncoding) ? null : NameEncodings.Find(u.FileNameEncoding),
            Fingerprint = Convert.ToBase64String(SHA256.HashData(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(u))),
        };
    }

    /// <summary>The anonymous user: read-only, or a write-only drop box restricted to the addresses it names.</summary>
    private static FtpUser BuildAnonymous(AnonymousOptions anonymous)
    {
        var errors = new List<string>();
        var allowed = AddressList.Parse(anonymous.AllowedAddresses, "Anonymous:AllowedAddresses", errors);
        if (anonymous.Permissions is not (UserPermissions.ReadOnly or UserPermissions.WriteOnly))
        {
            errors.Add("Anonymous:Permissions must be ReadOnly or WriteOnly (anonymous users never get Full)");
        }
        else if (anonymous.Permissions == UserPermissions.WriteOnly && anonymous.AllowedAddresses.Count == 0)
        {
            errors.Add("Anonymous:Permissions WriteOnly needs Anonymous:AllowedAddresses:0 (the cameras' addresses or ranges): an open anonymous drop box would take anyone's files");
        }

        if (!Enum.IsDefined(anonymous.OnExistingFile))
        {
            errors.Add("Anonymous:OnExistingFile must be Overwrite, Rename or Reject");
        }

        CheckDeviceLimits(anonymous.OwnUploadsEditableFor, anonymous.MaxFilesPerMinute, anonymous.MaxFilesPerDay, anonymous.MaxBytesPerDay, "Anonymous", errors);

        return errors.Count > 0
            ? throw new InvalidOperationException(string.Join("; ", errors))
            : new FtpUser("anonymous", ParseRoot(anonymous.Root, "Anonymous", "anonymous"), anonymous.Permissions, true)
            {
                AllowedAddresses = allowed,
                StorageTarget = string.IsNullOrWhiteSpace(anonymous.Storage) ? null : anonymous.Storage,
                CreateDirectories = anonymous.CreateDirectories,
                OnExistingFile = anonymous.OnExistingFile,
                OwnUploadsEditableFor = EditableFor(anonymous.Permissions, anonymous.OwnUploadsEditableFor),
                Guardrails = new Guardrails(anonymous.MaxFilesPerMinute, anonymous.MaxFilesPerDay, anonymous.MaxBytesPerDay),
            };
    }

    /// <summary>ownUploadsEditableFor: 10 minutes for WriteOnly unless set; only WriteOnly needs it (Full may anyway).</summary>
    private static TimeSpan EditableFor(UserPermissions permissions, TimeSpan? configured) =>
        permissions == UserPermissions.WriteOnly ? configured ?? TimeSpan.FromMinutes(10) : TimeSpan.Zero;

    private static void CheckDeviceLimits(TimeSpan? editableFor, int? filesPerMinute, int? filesPerDay, long? bytesPerDay, string where, List<string> errors)
    {
        if (editableFor is { } e && (e < TimeSpan.Zero || e > TimeSpan.FromDays(1)))
        {
            errors.Add($"{where}:OwnUploadsEditableFor must be between 00:00:00 (never) and 1.00:00:00");
        }

        if (filesPerMinute is < 1 || filesPerDay is < 1 || bytesPerDay is < 1)
        {
            errors.Add($"{where}: MaxFilesPerMinute, MaxFilesPerDay and MaxBytesPerDay must be at least 1");
        }
    }

    /// <summary>
    /// True when <paramref name="user"/> is still defined here, enabled, with the very settings it logged in with
    /// (users of the hook and anonymous users are not in this directory and always are).
    /// </summary>
    public bool IsCurrent(FtpUser user) =>
        user is null ? throw new ArgumentNullException(nameof(user))
        : user.FromHook || user.IsAnonymous
        || (_users.TryGetValue(user.Name, out var entry) && !entry.Options.Disabled && entry.User.Fingerprint == user.Fingerprint);

    /// <summary>True when <paramref name="name"/> is defined here (enabled or not): the HTTP hook is asked only for other names.</summary>
    public bool Defines(string name) => _users.ContainsKey(name) || (_anonymous is not null && IsAnonymousName(name));

    /// <summary>The storage targets the users name.</summary>
    public IEnumerable<string> StorageTargets =>
        _users.Values.Select(u => u.User.StorageTarget).Append(_anonymous?.StorageTarget).OfType<string>().Distinct(StringComparer.Ordinal);

    public int Count => _users.Count;

    public bool AnonymousEnabled => _anonymous is not null;

    public static bool IsAnonymousName(string name) =>
        name.Equals("anonymous", StringComparison.OrdinalIgnoreCase) || name.Equals("ftp", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The user if the password matches; null otherwise. Every failure costs one key derivation with the same
    /// parameters — an unknown name, a wrong plain password and a wrong hashed one alike — so the time a failure
    /// takes does not tell whether the name exists.
    /// </summary>
    public FtpUser? Authenticate(string name, string password, System.Net.IPAddress? client = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(password);
        if (_anonymous is not null && IsAnonymousName(name) && !_users.ContainsKey(name))
        {
            // A drop box takes only its cameras' addresses; from elsewhere it is as if there were no anonymous login.
            return client is null || _anonymous.AllowedAddresses.IsEmpty || _anonymous.AllowedAddresses.Contains(client) ? _anonymous : null;
        }

        if (!_users.TryGetValue(name, out var entry) || entry.Options.Disabled)
        {
            PasswordHasher.Verify(password, _decoyHash);
            return null;
        }

        bool matches;
        if (entry.Options.PasswordHash is { } hash)
        {
            matches = PasswordHasher.Verify(password, hash);
        }
        else
        {
            matches = CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(entry.Options.Password!));
            if (!matches)
            {
                PasswordHasher.Verify(password, _decoyHash);
            }
        }

        // From an address the user may not log in from: the same answer, after the same work, as a wrong password.
        return matches && (client is null || entry.User.AllowedAddresses.IsEmpty || entry.User.AllowedAddresses.Contains(client)) ? entry.User : null;
    }

    private static StoragePath ParseRoot(string? root, string where, string name)
    {
        var text = string.IsNullOrWhiteSpace(root) ? "/" : root;
        if (text.Contains("{user}", StringComparison.Ordinal))
        {
            // The name becomes one path segment: nothing in it may climb out or split it.
            if (name is "." or ".." || name.AsSpan().IndexOfAny("/\\") >= 0 || name.Any(char.IsControl))
            {
                throw new InvalidOperationException($"{where}: the name '{name}' cannot stand for {{user}} in Root (no '/', '\\', '.', '..' or control characters)");
            }

            text = text.Replace("{user}", name, StringComparison.Ordinal);
        }

        if (!StoragePath.TryResolve(StoragePath.Root, text, out var path))
        {
            throw new InvalidOperationException($"{where}:Root '{root}' is not a valid path");
        }

        return path;
    }
}

/// <summary>A user's guardrails against a looping device (null: no limit).</summary>
internal sealed record Guardrails(int? FilesPerMinute, int? FilesPerDay, long? BytesPerDay)
{
    public static Guardrails None { get; } = new(null, null, null);

    public bool Any => FilesPerMinute is not null || FilesPerDay is not null || BytesPerDay is not null;
}

using System.Security.Cryptography;
using FtpGateway.Ftp.Telemetry;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Users;

/// <summary>
/// The users now in force: those of the configuration (<c>Users:N</c>) and those of the users file
/// (<c>Users:File</c>), which is read again whenever its content changes. The file is polled by content, not
/// watched by inode, so a Kubernetes Secret volume's atomic swap of its <c>..data</c> symlink is seen like any
/// other change. A reload that fails keeps the previous users whole, logs one error naming the entry and counts
/// <c>ftpgateway.users.reload_failures</c>.
/// </summary>
internal sealed class UserStore : IDisposable
{
    /// <summary>How often the users file is looked at.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private readonly IReadOnlyList<UserOptions> _configured;
    private readonly AnonymousOptions _anonymous;
    private readonly string? _file;
    private readonly ILogger? _logger;
    private readonly FtpTelemetry? _telemetry;
    private readonly ITimer? _poll;
    private readonly IReadOnlySet<string>? _knownTargets;
    private readonly Lock _reloading = new();
    private byte[]? _fileHash;
    private byte[]? _failedHash;
    private volatile UserDirectory _current;

    /// <summary>A fixed set of users (tests, a gateway without a users file).</summary>
    public UserStore(UserDirectory users)
    {
        _current = users ?? throw new ArgumentNullException(nameof(users));
        _configured = [];
        _anonymous = new AnonymousOptions();
    }

    /// <summary>
    /// The configured users plus the users file, read once now (a broken file stops the start) and then every
    /// <see cref="PollInterval"/> on <paramref name="time"/>.
    /// </summary>
    public UserStore(
        IReadOnlyList<UserOptions> configured, AnonymousOptions anonymous, string? file, TimeProvider time, ILogger logger, FtpTelemetry telemetry,
        IReadOnlySet<string>? knownTargets = null)
    {
        _knownTargets = knownTargets;
        ArgumentNullException.ThrowIfNull(time);
        _configured = configured;
        _anonymous = anonymous;
        _file = string.IsNullOrWhiteSpace(file) ? null : file;
        _logger = logger;
        _telemetry = telemetry;
        var content = _file is null ? null : ReadAtStart(_file); // read once: what is loaded is what is hashed
        _current = Load(content);
        _fileHash = content is null ? null : SHA256.HashData(content);
        telemetry?.ObserveUsers(() => _current.Count, () => _failedHash is null ? 1 : 0);
        if (_file is not null)
        {
            Log.UsersReloaded(logger, _file, _current.Count);
        }

        if (_file is not null)
        {
            _poll = time.CreateTimer(_ => Reload(), null, PollInterval, PollInterval);
        }
    }

    /// <summary>The users in force now.</summary>
    public UserDirectory Current => _current;

    /// <summary>Raised after a reload changed the users, with the previous and the new directory.</summary>
    public event Action<UserDirectory, UserDirectory>? Changed;

    /// <summary>
    /// Reads the file again if its content changed (called by the poll, and by the operator API for "now"):
    /// whether the users in force are the file's content, how many, and when not, the error as the log gives it.
    /// </summary>
    public UsersReload Reload()
    {
        if (_file is null)
        {
            return new UsersReload(false, false, _current.Count, "no users file is configured (Users:File)");
        }

        lock (_reloading)
        {
            byte[] content;
            try
            {
                content = File.ReadAllBytes(_file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Fail(ReadFailure, $"cannot read it: {ex.Message}");
            }

            var hash = SHA256.HashData(content);
            if (_fileHash is not null && hash.AsSpan().SequenceEqual(_fileHash))
            {
                if (_failedHash is not null)
                {
                    // A broken edit reverted: the users in force are the file's content again.
                    _failedHash = null;
                    Log.UsersReloaded(_logger!, _file, _current.Count);
                }

                return new UsersReload(true, false, _current.Count, null);
            }

            UserDirectory next;
            try
            {
                next = Load(content);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Whatever is wrong with the file, the previous users stay: a reload never ends the gateway.
                return Fail(hash, ex is InvalidOperationException or FormatException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
            }

            var previous = _current;
            _current = next;
            _fileHash = hash;
            _failedHash = null;
            Log.UsersReloaded(_logger!, _file, next.Count);
            Changed?.Invoke(previous, next);
            return new UsersReload(true, true, next.Count, null);
        }
    }

    /// <summary>Stands for "the file could not be read" among the versions already reported.</summary>
    private static readonly byte[] ReadFailure = [0];

    /// <summary>Counts a failed reload and logs it once per broken version (or once while the file is unreadable), not every poll.</summary>
    private UsersReload Fail(byte[] version, string reason)
    {
        if (_failedHash is null || !version.AsSpan().SequenceEqual(_failedHash))
        {
            _telemetry?.UserReloadFailures.Add(1);
            Log.UsersReloadFailed(_logger!, _file!, reason);
            _failedHash = version;
        }

        return new UsersReload(false, false, _current.Count, $"Users file {_file} not reloaded, the previous users stay in force: {reason}");
    }

    /// <summary>The configured users and the file's as one directory; throws naming the bad entry.</summary>
    private UserDirectory Load(byte[]? file)
    {
        var users = _configured.Select((u, i) => (u, $"Users:{i}")).ToList();
        if (file is not null)
        {
            users.AddRange(UsersFile.Parse(file, _file!));
        }

        if (_knownTargets is not null && !string.IsNullOrEmpty(_anonymous.Storage) && !_knownTargets.Contains(_anonymous.Storage))
        {
            throw new InvalidOperationException($"Anonymous:Storage: storage target '{_anonymous.Storage}' is not configured (Storage:Targets:{_anonymous.Storage})");
        }

        foreach (var (user, where) in users)
        {
            if (_knownTargets is not null && !string.IsNullOrEmpty(user.Storage) && !_knownTargets.Contains(user.Storage))
            {
                throw new InvalidOperationException($"{where}: storage target '{user.Storage}' is not configured (Storage:Targets:{user.Storage})");
            }
        }

        return UserDirectory.Create(users, _anonymous);
    }

    /// <summary>The file's content at start-up; what stops the start names Users:File, the path and the cause.</summary>
    private static byte[] ReadAtStart(string file)
    {
        if (Directory.Exists(file))
        {
            throw new InvalidOperationException($"Users:File '{file}' is a directory, not a users file");
        }

        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var reason = ex switch
            {
                FileNotFoundException or DirectoryNotFoundException => "it does not exist",
                UnauthorizedAccessException => "it may not be read by this user",
                _ => ex.Message,
            };
            throw new InvalidOperationException($"Users:File '{file}' cannot be read: {reason}", ex);
        }
    }

    /// <summary>The Warning of a gateway that starts with a users file and no users: nobody can log in.</summary>
    public static void WarnNoUsers(ILoggerFactory loggerFactory, string file) =>
        Log.NoUsers((loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory))).CreateLogger("FtpGateway.Ftp.Users"), file);

    public void Dispose() => _poll?.Dispose();
}

/// <summary>What a reload of the users file did.</summary>
/// <param name="Taken">true: the users in force are the file's content.</param>
/// <param name="Changed">true: the content changed and was taken now.</param>
/// <param name="Users">the users in force.</param>
/// <param name="Error">why the file was not taken, as the log says it.</param>
internal sealed record UsersReload(bool Taken, bool Changed, int Users, string? Error);

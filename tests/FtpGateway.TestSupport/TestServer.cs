using System.Net;
using FtpGateway.Ftp;
using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using FtpGateway.Storage.FileSystem;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FtpGateway.TestSupport;

/// <summary>An FTP server on a free loopback port over a temporary directory; disposed, it stops and deletes it.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    public const string UserName = "alice";
    public const string Password = "secret-pw";

    private readonly FtpServer _server;

    private TestServer(FtpServer server, TempDirectory root, IStorageProvider storage)
    {
        _server = server;
        Root = root;
        Storage = storage;
    }

    public TempDirectory Root { get; }

    public IStorageProvider Storage { get; }

    public int Port => _server.LocalEndPoint!.Port;

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public int ActiveSessions => _server.ActiveSessions;

    public int ActiveBans => _server.ActiveBans;

    public FtpServer Server => _server;

    /// <summary>The implicit-FTPS port, when Ftp:Tls:ImplicitPort was set.</summary>
    public int ImplicitTlsPort => _server.ImplicitTlsEndPoint!.Port;

    /// <summary>
    /// Starts a server with the <see cref="Users"/>. <paramref name="wrap"/> may wrap the storage (fault
    /// injection); <paramref name="time"/> may be a fake clock (then set LoginFailureDelay to zero).
    /// </summary>
    public static async Task<TestServer> StartAsync(
        Action<FtpServerOptions>? configure = null,
        Func<IStorageProvider, IStorageProvider>? wrap = null,
        bool anonymous = false,
        IStorageProvider? storage = null,
        FtpGateway.Ftp.Telemetry.FtpTelemetry? telemetry = null,
        TimeProvider? time = null,
        Action<SecurityOptions>? security = null,
        UserDirectory? users = null,
        UserStore? userStore = null,
        HttpAuthHook? authHook = null,
        FtpGateway.Ftp.Events.EventPublisher? events = null,
        Microsoft.Extensions.Logging.ILoggerFactory? loggers = null,
        FtpGateway.Ftp.State.IFleetState? fleet = null)
    {
        var root = new TempDirectory();
        var options = new FtpServerOptions
        {
            Port = 0,
            ListenAddress = "127.0.0.1",
            LoginFailureDelay = TimeSpan.FromMilliseconds(50),
            DataConnectionTimeout = TimeSpan.FromSeconds(10),
            DrainTimeout = TimeSpan.FromSeconds(2),
        };
        configure?.Invoke(options);
        var validation = new OptionsValidator<FtpServerOptions>().Validate(null, options);
        if (validation.Failed)
        {
            throw new InvalidOperationException(validation.FailureMessage);
        }

        storage ??= new FileSystemStorageProvider(new FileSystemStorageOptions { Root = root.Path });
        if (wrap is not null)
        {
            storage = wrap(storage);
        }

        var securityOptions = new SecurityOptions();
        security?.Invoke(securityOptions);
        var securityValidation = new OptionsValidator<SecurityOptions>().Validate(null, securityOptions);
        if (securityValidation.Failed)
        {
            throw new InvalidOperationException(securityValidation.FailureMessage);
        }

        var server = new FtpServer(
            Options.Create(options), storage, userStore ?? new UserStore(users ?? Users(anonymous)), loggers ?? NullLoggerFactory.Instance, telemetry, time, Options.Create(securityOptions), authHook, events: events, fleet: fleet);
        await server.StartAsync(CancellationToken.None);
        return new TestServer(server, root, storage);
    }

    /// <summary>
    /// The test users: alice/secret-pw (full), reader/read-pw (read-only), drop/drop-pw (write-only),
    /// jailed/jail-pw (full, root /home/jailed, a hashed password); anonymous (root /pub) when enabled.
    /// </summary>
    public static UserDirectory Users(bool anonymous = false) => new(
        [
            new UserOptions { Name = UserName, Password = Password },
            new UserOptions { Name = "reader", Password = "read-pw", Permissions = UserPermissions.ReadOnly },
            new UserOptions { Name = "drop", Password = "drop-pw", Permissions = UserPermissions.WriteOnly },
            new UserOptions { Name = "jailed", PasswordHash = PasswordHasher.Hash("jail-pw", 10_000), Root = "/home/jailed" },
        ],
        new AnonymousOptions { Enabled = anonymous, Root = "/pub" });

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        Root.Dispose();
    }
}

/// <summary>A fresh temporary directory, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ftpgw-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string relative) => System.IO.Path.Combine(Path, relative.TrimStart('/'));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

using System.Diagnostics;
using System.Net;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Sessions;

/// <summary>Whether the client is still there: asked right before an upload commits.</summary>
internal interface IClientPresence
{
    /// <summary>A presence that never ends (a session built in memory).</summary>
    static IClientPresence Always { get; } = new Present();

    /// <summary>True when the client has closed or reset the control connection (or the session is ending).</summary>
    bool ControlConnectionLost { get; }

    private sealed class Present : IClientPresence
    {
        public bool ControlConnectionLost => false;
    }
}

/// <summary>Why and with what 421 text a session is being closed from outside.</summary>
internal sealed record SessionClose(string Text, SessionEndReason Reason);

/// <summary>
/// Everything a command sees of its session: who and where the client is, the session's state grouped by
/// concept, the running transfer, and the server's shared services. No socket: commands read and change this
/// state and return a reply, so a test can run any command against a context built in memory.
/// </summary>
internal sealed class SessionContext : IDisposable
{
    public SessionContext(FtpServerContext server, string id, IPEndPoint remote, IPEndPoint local, ILogger logger)
    {
        Server = server;
        Id = id;
        RemoteEndPoint = remote;
        LocalEndPoint = local;
        ClientAddress = Addresses.Normalize(remote.Address);
        Logger = logger;
        Storage = server.Storage;
        IdleTimeout = server.Options.IdleTimeout;
        Login.StartedAt = server.Time.GetTimestamp();
    }

    public FtpServerContext Server { get; }

    public string Id { get; }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// The address the client connected to, when a PROXY protocol header named it (the load balancer's); PASV
    /// advertises it when no Ftp:PublicAddress is set. Null: the control connection's local address.
    /// </summary>
    public IPAddress? AdvertisedAddress { get; init; }

    /// <summary>The client's address (IPv4-mapped IPv6 addresses as IPv4; from the PROXY header behind a trusted proxy).</summary>
    public IPAddress ClientAddress { get; }

    public ILogger Logger { get; }

    public LoginState Login { get; } = new();

    public NavigationState Navigation { get; } = new();

    public TransferParameters Parameters { get; } = new();

    public TlsState Tls { get; } = new();

    /// <summary>The running transfer, if any; set by the session once it can run one.</summary>
    public TransferRunner Transfers { get; set; } = null!;

    /// <summary>
    /// Whether the client has closed or reset the control connection. Asked right before an upload commits:
    /// a killed client closes its data connection just as one that finished does, but its control connection
    /// is gone too.
    /// </summary>
    public IClientPresence Presence { get; init; } = IClientPresence.Always;

    /// <summary>How long this session may stay idle: Ftp:IdleTimeout, or what the client chose with SITE IDLE.</summary>
    public TimeSpan IdleTimeout { get; set; }

    /// <summary>The session's span (attributes learnt later, such as the user, go onto it).</summary>
    public Activity? SessionActivity { get; set; }

    /// <summary>
    /// Set from outside the command loop when the session is to end (the server drains for shutdown, the user
    /// was removed): no new work starts, and the next command is answered 421 with this text.
    /// </summary>
    public SessionClose? Closing
    {
        get => Volatile.Read(ref _closing);
        set => Volatile.Write(ref _closing, value);
    }

    public FtpServerOptions Options => Server.Options;

    /// <summary>The storage as this session's user may reach it (confined to the user's root after login).</summary>
    public IStorageProvider Storage { get; set; } = null!;

    /// <summary>The code page of file names on the control and data connections (the user's FileNameEncoding); null: UTF-8.</summary>
    public System.Text.Encoding? NameEncoding => Login.User?.FileNameEncoding;

    /// <summary>The logged-in user (commands flagged NeedsLogin run only after login).</summary>
    public FtpUser User => Login.User ?? throw new InvalidOperationException("Not logged in");

    /// <summary>An event about a path this session changed (deleted, renamed, a directory made or removed).</summary>
    public void PublishFileEvent(string type, UserPath path, UserPath? from = null)
    {
        if (!Server.Events.Enabled)
        {
            return;
        }

        var target = User.StorageTarget ?? StorageTargets.Default;
        var data = new Events.FileEventData(User.Name, ClientAddress.ToString(), Id, path.Value, target, Storage.Name, Server.Locate(target, path.ToStorage(User)))
        {
            From = from?.Value,
            FromLocation = from is { } source ? Server.Locate(target, source.ToStorage(User)) : null,
        };
        Server.Events.Publish(type, path.Value, User.Name, data);
    }

    public void Dispose() => Parameters.Dispose();

    private SessionClose? _closing;
}

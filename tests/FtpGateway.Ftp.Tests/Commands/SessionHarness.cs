using System.Net;
using FtpGateway.Ftp.Commands;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Storage;
using FtpGateway.Storage.FileSystem;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>
/// A session without a socket: the real command table and executor, the real local-disk provider over a
/// temporary directory, a fake clock. Commands are sent as lines and answered with the replies they return;
/// a transfer a command starts runs as in a session, and its final reply is collected.
/// </summary>
internal sealed class SessionHarness : IAsyncDisposable, ITransferOwner
{
    private readonly FtpTelemetry _telemetry = new();
    private readonly List<FtpReply> _transferReplies = [];
    private readonly PasswordChecks _passwordChecks = new(1);
    private readonly BanList _bans;

    private SessionHarness(FtpServerOptions? options, IStorageProvider? storage)
    {
        var o = options ?? new FtpServerOptions { LoginFailureDelay = TimeSpan.Zero };
        Storage = storage ?? new FileSystemStorageProvider(new FileSystemStorageOptions { Root = Root.Path });
        _bans = new BanList(new BanOptions(), Time, NullLogger.Instance, _telemetry);
        var server = new FtpServerContext(
            o, new Dictionary<string, IStorageProvider> { [StorageTargets.Default] = Storage }, new FtpGateway.Ftp.Users.UserStore(TestServer.Users()), new PassivePortPool(null), null, NullLoggerFactory.Instance, Time, _telemetry, _bans, _passwordChecks);
        Session = new SessionContext(server, "test", new IPEndPoint(IPAddress.Loopback, 40000), new IPEndPoint(IPAddress.Loopback, 2121), NullLogger.Instance);
        Session.Transfers = new TransferRunner(server, NullLogger.Instance, this);
    }

    public TempDirectory Root { get; } = new();

    public FakeTimeProvider Time { get; } = new();

    public IStorageProvider Storage { get; }

    public SessionContext Session { get; }

    /// <summary>The final replies of the transfers started so far.</summary>
    public IReadOnlyList<FtpReply> TransferReplies
    {
        get
        {
            lock (_transferReplies)
            {
                return [.. _transferReplies];
            }
        }
    }

    public static SessionHarness Create(FtpServerOptions? options = null, IStorageProvider? storage = null) => new(options, storage);

    public static async Task<SessionHarness> LoginAsync(string user = TestServer.UserName, string password = TestServer.Password)
    {
        var harness = new SessionHarness(null, null);
        await harness.ExpectAsync("USER " + user, ReplyCodes.NeedPassword);
        await harness.ExpectAsync("PASS " + password, ReplyCodes.LoggedIn);
        return harness;
    }

    /// <summary>Runs one command line as the session would and returns its reply; a transfer it starts runs on.</summary>
    public async Task<FtpReply> SendAsync(string line)
    {
        var (verb, argument) = CommandExecutor.Parse(line);
        if (!CommandTable.Commands.TryGetValue(verb, out var spec))
        {
            return FtpReply.Of(ReplyCodes.SyntaxError, "Unknown command.");
        }

        var reply = await CommandExecutor.ExecuteAsync(Session, spec, argument, CancellationToken.None);
        if (reply.Transfer is { } job)
        {
            Session.Transfers.Start(job);
        }

        return reply;
    }

    public async Task<FtpReply> ExpectAsync(string line, int code)
    {
        var reply = await SendAsync(line);
        return reply.Code == code ? reply : throw new InvalidOperationException($"'{line}' answered {reply} instead of {code}");
    }

    /// <summary>The lines of a multi-line reply whose body is streamed (STAT of a directory), collected.</summary>
    public static async Task<List<string>> LinesAsync(FtpReply reply)
    {
        var lines = new List<string> { reply.Lines[0] };
        if (reply.Body is { } body)
        {
            await foreach (var line in body)
            {
                lines.Add(line);
            }
        }

        lines.AddRange(reply.Lines.Skip(1));
        return lines;
    }

    void ITransferOwner.TransferEnded()
    {
    }

    System.Security.Cryptography.X509Certificates.X509Certificate2? ITransferOwner.TlsCertificate => null;

    FtpGateway.Ftp.Security.TlsPolicy ITransferOwner.TlsPolicy => FtpGateway.Ftp.Security.TlsPolicy.Default;

    Task ITransferOwner.SendFinalReplyAsync(FtpReply reply)
    {
        lock (_transferReplies)
        {
            _transferReplies.Add(reply);
        }

        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await Session.Transfers.CancelAsync(TransferFailure.ControlConnectionLost);
        Session.Dispose();
        _bans.Dispose();
        _passwordChecks.Dispose();
        _telemetry.Dispose();
        Root.Dispose();
    }
}

/// <summary>A negotiated data connection that never opens: the transfer waits for it until cut short.</summary>
internal sealed class NeverOpeningDataChannel : DataChannel
{
    public override async Task<System.Net.Sockets.Socket> OpenAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }

    public override void Dispose()
    {
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using FtpGateway.Ftp.Data;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Session;

/// <summary>Why a session ended (logs, and later metrics).</summary>
internal enum SessionEndReason
{
    ClientQuit,
    ClientClosed,
    IdleTimeout,
    TooManyLoginFailures,
    ServerShutdown,
    ProtocolError,
}

/// <summary>
/// One FTP control connection. Commands run one at a time in the order received; a transfer runs in the
/// background so that ABOR, STAT, NOOP, FEAT and HELP are answered while it runs. Any other command waits for
/// the running transfer to finish first, which keeps replies in order for pipelining clients.
/// </summary>
internal sealed partial class FtpSession : IAsyncDisposable
{
    private static readonly Encoding Utf8 = new UTF8Encoding(false);

    private readonly FtpServerContext _server;
    private readonly Socket _socket;
    private readonly ILogger _logger;
    private readonly FtpServerOptions _options;
    private readonly IStorageProvider _storage;
    private readonly ControlLineReader _reader;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _sessionCts;
    private readonly Timer _watchdog;
    private Stream _control;
    private long _lastActivity = Environment.TickCount64;
    private Activity? _sessionActivity;
    private int _lastReplyCode;
    private volatile bool _draining;
    private SessionEndReason? _endReason;

    public FtpSession(FtpServerContext server, Socket socket, string id, CancellationToken serverStopping)
    {
        _server = server;
        _socket = socket;
        _options = server.Options;
        _storage = server.Storage;
        Id = id;
        _logger = server.LoggerFactory.CreateLogger("FtpGateway.Ftp.Session");
        _control = new NetworkStream(socket, ownsSocket: false);
        _reader = new ControlLineReader(_options.MaxCommandLineLength);
        _sessionCts = CancellationTokenSource.CreateLinkedTokenSource(serverStopping);
        RemoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(Math.Min(_options.IdleTimeout.TotalMilliseconds, _options.DataConnectionTimeout.TotalMilliseconds) / 4, 50, 5000));
        _watchdog = new Timer(_ => CheckTimeouts(), null, tick, tick);
    }

    public string Id { get; }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    public IPAddress ClientAddress => PassiveDataChannel.Normalize(RemoteEndPoint.Address);

    public SessionEndReason? EndReason => _endReason;

    /// <summary>Runs the session until the client quits, disconnects, times out or the server stops.</summary>
    public async Task RunAsync()
    {
        var ct = _sessionCts.Token;
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["SessionId"] = Id, ["ClientAddress"] = ClientAddress.ToString() });
        using var activity = _sessionActivity = FtpTelemetry.Source.StartActivity("ftp.session", ActivityKind.Server);
        activity?.SetTag("client.address", ClientAddress.ToString());
        activity?.SetTag("client.port", RemoteEndPoint.Port);
        activity?.SetTag("server.port", LocalEndPoint.Port);
        activity?.SetTag("network.transport", "tcp");
        activity?.SetTag("ftp.session.id", Id);
        _server.Telemetry.ActiveSessions.Add(1);
        Log.SessionStarted(_logger, ClientAddress, RemoteEndPoint.Port);
        try
        {
            await ReplyAsync(ReplyCodes.ServiceReady, _options.Banner);
            while (!ct.IsCancellationRequested && _endReason is null)
            {
                var line = await _reader.ReadLineAsync(_control, ct);
                if (line is null)
                {
                    _endReason ??= SessionEndReason.ClientClosed;
                    break;
                }

                Interlocked.Exchange(ref _lastActivity, Environment.TickCount64);
                await DispatchAsync(line.Value, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _endReason ??= SessionEndReason.ServerShutdown;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            _endReason ??= SessionEndReason.ClientClosed;
        }
        finally
        {
            // The client is gone (or we are closing): a transfer still running must not commit.
            await CancelTransferAsync(TransferEnd.ControlConnectionLost);
            var reason = (_endReason ?? SessionEndReason.ClientClosed).ToString();
            Log.SessionEnded(_logger, reason);
            _server.Telemetry.ActiveSessions.Add(-1);
            _server.Telemetry.Sessions.Add(1, new KeyValuePair<string, object?>("ftp.session.end_reason", reason));
            activity?.SetTag("ftp.session.end_reason", reason);
            activity?.SetTag("ftp.tls", _tlsActive);
        }
    }

    private async Task DispatchAsync(ControlLine line, CancellationToken ct)
    {
        if (line.TooLong)
        {
            await ReplyAsync(ReplyCodes.SyntaxError, "Command line too long.");
            return;
        }

        var text = line.Text.TrimStart(' ');
        if (text.Length == 0)
        {
            return; // a stray line end (the LF of a CRLF split by urgent data, or a keep-alive): nothing to answer
        }

        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var verb = space < 0 ? text : text[..space];
        var argument = space < 0 ? string.Empty : text[(space + 1)..];
        if (!CommandTable.Commands.TryGetValue(verb, out var spec))
        {
            Log.Command(_logger, SanitizeForLog(verb), string.Empty);
            await ReplyAsync(ReplyCodes.SyntaxError, "Unknown command.");
            CountCommand("unknown", ReplyCodes.SyntaxError);
            return;
        }

        // A span per command. Only path arguments are recorded, so PASS (or anything else) never is.
        using var activity = FtpTelemetry.Source.StartActivity("ftp " + spec.Verb);
        activity?.SetTag("ftp.command", spec.Verb);
        if ((spec.Flags & CommandFlags.PathArgument) != 0 && argument.Length > 0)
        {
            activity?.SetTag("ftp.argument", SanitizeForLog(argument));
        }

        _lastReplyCode = 0;
        try
        {
            await RunCommandAsync(spec, argument, ct);
        }
        finally
        {
            activity?.SetTag("ftp.reply_code", _lastReplyCode);
            if (_lastReplyCode >= 400)
            {
                activity?.SetStatus(ActivityStatusCode.Error);
                activity?.SetTag("error.type", _lastReplyCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            CountCommand(spec.Verb, _lastReplyCode);
        }
    }

    private void CountCommand(string verb, int code) =>
        _server.Telemetry.Commands.Add(
            1,
            new KeyValuePair<string, object?>("ftp.command", verb),
            new KeyValuePair<string, object?>("ftp.reply_class", code == 0 ? "none" : $"{code / 100}xx"));

    private async Task RunCommandAsync(CommandSpec spec, string argument, CancellationToken ct)
    {
        Log.Command(_logger, spec.Verb, spec.Verb == "PASS" ? "****" : SanitizeForLog(argument));
        if ((spec.Flags & CommandFlags.DuringTransfer) == 0)
        {
            await WaitForTransferAsync();
        }

        if (_draining && spec.Verb != "QUIT")
        {
            // Shutting down: no new work (RFC 959 §4.2: 421 closes the control connection).
            _endReason = SessionEndReason.ServerShutdown;
            await CloseWithReplyAsync(ReplyCodes.ServiceNotAvailable, "Service shutting down; closing control connection.");
            return;
        }

        if ((spec.Flags & CommandFlags.NeedsLogin) != 0 && _user is null)
        {
            await ReplyAsync(ReplyCodes.NotLoggedIn, "Please log in with USER and PASS.");
            return;
        }

        if ((spec.Flags & CommandFlags.NeedsArgument) != 0 && string.IsNullOrWhiteSpace(argument))
        {
            await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, $"Syntax: {spec.Syntax}");
            return;
        }

        // RFC 959 §4.1.3: RNTO must follow RNFR immediately; anything else forgets the pending rename.
        if (spec.Verb != "RNTO")
        {
            _renameFrom = null;
        }

        try
        {
            await spec.Handler(this, argument, ct);
        }
        catch (StorageException ex)
        {
            Log.StorageError(_logger, ex, spec.Verb, ex.Kind);
            var (code, message) = ReplyMapper.Map(ex.Kind);
            await ReplyAsync(code, message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not (IOException or SocketException or ObjectDisposedException or AuthenticationException))
        {
            Log.UnexpectedError(_logger, ex, spec.Verb);
            await ReplyAsync(ReplyCodes.LocalError, "Local error in processing.");
        }
    }

    /// <summary>Writes a reply; a text with several lines becomes a multi-line reply (RFC 959 §4.2).</summary>
    internal Task ReplyAsync(int code, string text) => ReplyAsync(code, text.Split('\n'));

    internal async Task ReplyAsync(int code, IReadOnlyList<string> lines)
    {
        _lastReplyCode = code;
        await WriteReplyAsync(code, lines);
    }

    /// <summary>A transfer's final reply: written like any other, but not the reply of the command running now.</summary>
    private Task TransferReplyAsync(int code, string text) => WriteReplyAsync(code, [text]);

    private async Task WriteReplyAsync(int code, IReadOnlyList<string> lines)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (i == lines.Count - 1)
            {
                sb.Append(code).Append(' ').Append(line).Append("\r\n");
            }
            else if (i == 0)
            {
                sb.Append(code).Append('-').Append(line).Append("\r\n");
            }
            else
            {
                // Continuation lines start with a space so none can be mistaken for the last line.
                sb.Append(' ').Append(line.TrimStart(' ')).Append("\r\n");
            }
        }

        Log.Reply(_logger, code, lines[^1]);
        await WriteControlAsync(sb.ToString());
    }

    /// <summary>Writes raw, already formatted reply text (streamed multi-line replies).</summary>
    internal async Task WriteControlAsync(string text)
    {
        var bytes = Utf8.GetBytes(text);
        await _writeLock.WaitAsync();
        try
        {
            await _control.WriteAsync(bytes);
            await _control.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// True when the client has closed or reset the control connection, checked without consuming input:
    /// before committing an upload we must know the client is still there to receive the 226.
    /// </summary>
    internal bool ControlConnectionLost()
    {
        if (_sessionCts.IsCancellationRequested || _endReason is SessionEndReason.ClientClosed)
        {
            return true;
        }

        try
        {
            return _socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }

    private void CheckTimeouts()
    {
        try
        {
            var now = Environment.TickCount64;
            var transfer = _transfer;
            if (transfer is not null)
            {
                if (transfer.Data is { } data && data.WaitingMilliseconds > _options.DataConnectionTimeout.TotalMilliseconds)
                {
                    transfer.Cancel(TransferEnd.Timeout);
                }

                return;
            }

            if (now - Interlocked.Read(ref _lastActivity) > _options.IdleTimeout.TotalMilliseconds && _endReason is null)
            {
                _endReason = SessionEndReason.IdleTimeout;
                _ = CloseWithReplyAsync(ReplyCodes.ServiceNotAvailable, "Idle timeout; closing control connection.");
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Graceful shutdown: a running transfer may finish (and is answered as usual), then the session gets 421
    /// and is closed. Commands that arrive meanwhile are answered 421 as well.
    /// </summary>
    internal async Task DrainAsync()
    {
        _draining = true;
        if (_transfer is { } transfer)
        {
            await transfer.Completion;
        }

        await CloseWithReplyAsync(ReplyCodes.ServiceNotAvailable, "Service shutting down; closing control connection.");
    }

    /// <summary>Sends a last reply (421) and closes the connection, which ends <see cref="RunAsync"/>.</summary>
    internal async Task CloseWithReplyAsync(int code, string text)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await ReplyAsync(code, text).WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            try
            {
                await _sessionCts.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The session ended on its own meanwhile.
            }
        }
    }

    private async Task<bool> UpgradeControlToTlsAsync()
    {
        var ssl = new SslStream(_control, leaveInnerStreamOpen: false);
        try
        {
            using var timeout = new CancellationTokenSource(_options.DataConnectionTimeout);
            await ssl.AuthenticateAsServerAsync(ServerTlsOptions(), timeout.Token);
            _control = ssl;
            return true;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            Log.TlsFailed(_logger, ex);
            await ssl.DisposeAsync();
            _endReason = SessionEndReason.ProtocolError;
            return false;
        }
    }

    /// <summary>
    /// TLS 1.2 and 1.3 on the control connection. Data connections get TLS 1.2 only: a TLS 1.3 server sends
    /// session tickets after the handshake, a client that only writes (an upload) never reads them, and when it
    /// closes with unread data its kernel sends RST instead of FIN, which discards the end of the file still in
    /// our receive buffer (seen with curl; see curl issue 6149 and proftpd issue 2015).
    /// </summary>
    private SslServerAuthenticationOptions ServerTlsOptions(bool data = false) => new()
    {
        ServerCertificate = _server.Certificate,
        EnabledSslProtocols = data ? SslProtocols.Tls12 : SslProtocols.Tls12 | SslProtocols.Tls13,
        ClientCertificateRequired = false,
    };

    private static string SanitizeForLog(string text)
    {
        var clean = new StringBuilder(Math.Min(text.Length, 256));
        foreach (var c in text.AsSpan(0, Math.Min(text.Length, 256)))
        {
            clean.Append(char.IsControl(c) ? '?' : c);
        }

        return clean.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _watchdog.DisposeAsync();
        _pendingData?.Dispose();
        await _control.DisposeAsync();
        _socket.Dispose();
        _sessionCts.Dispose();
        _writeLock.Dispose();
    }
}

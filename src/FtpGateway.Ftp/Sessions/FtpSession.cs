using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using FtpGateway.Ftp.Commands;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Ftp.Transfers;

namespace FtpGateway.Ftp.Sessions;

/// <summary>
/// One FTP control connection: reads command lines, runs them one at a time through the
/// <see cref="CommandTable"/>, writes their replies and carries out what a reply asks for (start a transfer,
/// upgrade to TLS, end the session). Commands other than ABOR, STAT, NOOP, FEAT and HELP wait for a running
/// transfer first, which keeps replies in order for pipelining clients.
/// </summary>
internal sealed partial class FtpSession : IAsyncDisposable, ITransferOwner, ITimeoutHandler, IClientPresence
{
    private const int NotEnded = -1;

    private readonly SessionContext _s;
    private readonly ControlChannel _control;
    private readonly SessionTimeouts _timeouts;
    private readonly CancellationTokenSource _cts;
    private int _endReason = NotEnded;

    public FtpSession(FtpServerContext server, ClientConnection connection, string id)
    {
        var logger = server.LoggerFactory.CreateLogger("FtpGateway.Ftp.Session");
        _cts = new CancellationTokenSource(); // the server's stop reaches it through Abort: a link is an object more per session
        _implicitTls = connection.ImplicitTls;
        _control = new ControlChannel(connection.Socket, server.Options.MaxCommandLineLength, logger);
        _s = new SessionContext(server, id, connection.Remote, (IPEndPoint)connection.Socket.LocalEndPoint!, logger)
        {
            Presence = this,
            AdvertisedAddress = connection.Destination is { } destination ? Addresses.Normalize(destination.Address) : null,
        };
        _s.Transfers = new TransferRunner(server, logger, this);
        _started = server.Time.GetUtcNow();
        _timeouts = new SessionTimeouts(server.Time, server.Options, this);
    }

    private readonly bool _implicitTls;
    private readonly SemaphoreSlim _commandGate = new(1, 1);

    public string Id => _s.Id;

    private readonly DateTimeOffset _started;

    /// <summary>What the fleet's session registry (and the operator API) shows of this session now.</summary>
    internal State.FleetSession Snapshot()
    {
        var transfer = _s.Transfers.Current;
        return new State.FleetSession(
            Id, _s.Server.GatewayName, _s.Login.User?.Name, ClientAddress.ToString(), _started, _s.Tls.Active,
            transfer?.Job.Verb, transfer?.Job.Path.Value, transfer?.Bytes ?? 0);
    }

    public IPAddress ClientAddress => _s.ClientAddress;

    /// <summary>The logged-in user, if any.</summary>
    internal Users.FtpUser? User => _s.Login.User;

    private SessionEndReason? EndReason => _endReason == NotEnded ? null : (SessionEndReason)_endReason;

    /// <summary>While <see cref="RunAsync"/> runs, its task; null before.</summary>
    public Task? Completion { get; set; }

    /// <summary>
    /// Runs the session until the client quits, disconnects, times out or the server stops, then calls
    /// <paramref name="ended"/> (the registry frees the client's slot) and disposes the session. The registry's
    /// wrapper around this was one more state machine per idle session.
    /// </summary>
    public async Task RunAsync(Action<FtpSession> ended)
    {
        await Task.Yield(); // off the accept loop
        var ct = _cts.Token;
        var telemetry = _s.Server.Telemetry;
        var client = ClientAddress.ToString();
        try
        {
            using var scope = _s.Logger.BeginScope(new SessionLogScope(Id, client));
            using var activity = _s.SessionActivity = FtpTelemetry.Source.StartActivity("ftp.session", ActivityKind.Server);
            activity?.SetTag("client.address", client);
            activity?.SetTag("client.port", _s.RemoteEndPoint.Port);
            activity?.SetTag("server.port", _s.LocalEndPoint.Port);
            activity?.SetTag("network.transport", "tcp");
            activity?.SetTag("ftp.session.id", Id);
            telemetry.ActiveSessions.Add(1);
            Log.SessionStarted(_s.Logger, ClientAddress, _s.RemoteEndPoint.Port);
            try
            {
                if (_implicitTls && !await StartImplicitTlsAsync(ct))
                {
                    return;
                }

                await _control.WriteAsync(FtpReply.Multiline(ReplyCodes.ServiceReady, _s.Options.Banner.Split('\n')), ct);
                while (!ct.IsCancellationRequested && EndReason is null)
                {
                    await _control.WaitForInputAsync(); // idle, it holds no buffer; what ends the session shuts the socket
                    if (await _control.ReadLineAsync(ct) is not { } line)
                    {
                        End(SessionEndReason.ClientClosed);
                        break;
                    }

                    _timeouts.Touch();
                    await DispatchAsync(line, ct);
                    _control.NameEncoding = _s.NameEncoding; // after a login (or logout), the user's file-name code page
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                End(SessionEndReason.ServerShutdown);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or AuthenticationException)
            {
                End(SessionEndReason.ClientClosed);
            }
            finally
            {
                // The client is gone (or we are closing): a transfer still running must not commit.
                await _s.Transfers.CancelAsync(TransferFailure.ControlConnectionLost);
                AccessCommands.ResetLogin(_s); // the user's session count goes down
                var reason = (EndReason ?? SessionEndReason.ClientClosed).ToString();
                Log.SessionEnded(_s.Logger, reason);
                telemetry.ActiveSessions.Add(-1);
                telemetry.Sessions.Add(1, new KeyValuePair<string, object?>("ftp.session.end_reason", reason));
                activity?.SetTag("ftp.session.end_reason", reason);
                activity?.SetTag("ftp.tls", _s.Tls.Active);
            }
        }
        catch (Exception ex)
        {
            Log.UnexpectedError(_s.Logger, ex, "session");
        }
        finally
        {
            try
            {
                ended(this);
            }
            catch (Exception ex)
            {
                Log.UnexpectedError(_s.Logger, ex, "session end");
            }

            await DisposeAsync();
        }
    }

    private async Task DispatchAsync(ControlLine line, CancellationToken ct)
    {
        // Held for the whole command, up to the start of the transfer it may begin, so that a close from outside
        // (drain, removed user) never falls between a 150 and its transfer.
        await _commandGate.WaitAsync(ct);
        try
        {
            await DispatchCommandAsync(line, ct);
        }
        finally
        {
            _commandGate.Release();
        }
    }

    private async Task DispatchCommandAsync(ControlLine line, CancellationToken ct)
    {
        if (line.TooLong)
        {
            await _control.WriteAsync(FtpReply.Of(ReplyCodes.SyntaxError, "Command line too long."), ct);
            return;
        }

        var (verb, argument) = CommandExecutor.Parse(line.Text);
        if (verb.Length == 0)
        {
            return; // a stray line end (the LF of a CRLF split by urgent data, or a keep-alive): nothing to answer
        }

        if (verb == "PROXY")
        {
            // A PROXY protocol header from an address that is not a trusted proxy: nobody vouches for it.
            Log.UntrustedProxyHeader(_s.Logger);
            await _control.WriteAsync(FtpReply.Of(ReplyCodes.ServiceNotAvailable, "PROXY protocol header from an untrusted address; closing."), ct);
            End(SessionEndReason.ProtocolError);
            return;
        }

        if (!CommandTable.Commands.TryGetValue(verb, out var spec))
        {
            Log.Command(_s.Logger, LogText.Sanitize(verb), string.Empty);
            await _control.WriteAsync(FtpReply.Of(ReplyCodes.SyntaxError, "Unknown command."), ct);
            CountCommand("unknown", ReplyCodes.SyntaxError);
            return;
        }

        // A trace per command (and the transfer it starts), linked to the session's span and carrying the session,
        // user and client: a device's all-day session is then many small traces, not one that never ends. Only
        // path arguments are recorded, so PASS (or anything else) never is.
        using var activity = FtpTelemetry.StartLinkedRoot("ftp " + spec.Verb, _s.SessionActivity);
        activity?.SetTag("ftp.command", spec.Verb);
        activity?.SetTag("ftp.session.id", Id);
        activity?.SetTag("client.address", ClientAddress.ToString());
        if (_s.Login.User is { } user)
        {
            activity?.SetTag("enduser.id", user.Name);
        }

        if (spec.Has(CommandFlags.PathArgument) && argument.Length > 0)
        {
            activity?.SetTag("ftp.argument", LogText.Sanitize(argument));
        }

        var code = 0;
        var transferStarted = false;
        try
        {
            var reply = await CommandExecutor.ExecuteAsync(_s, spec, argument, ct);
            code = reply.Code;
            await ApplyAsync(reply, ct);
            transferStarted = reply.Transfer is not null; // its final reply is counted by the transfer runner
        }
        finally
        {
            activity?.SetTag("ftp.reply_code", code);
            if (code >= 400)
            {
                activity?.SetStatus(ActivityStatusCode.Error);
                activity?.SetTag("error.type", code.ToString(CultureInfo.InvariantCulture));
            }

            if (!transferStarted)
            {
                CountCommand(spec.Verb, code);
            }
        }
    }

    /// <summary>Sends the reply, then does what it asks for.</summary>
    private async Task ApplyAsync(FtpReply reply, CancellationToken ct)
    {
        try
        {
            await _control.WriteAsync(reply, ct);
        }
        catch
        {
            reply.Transfer?.Dispose(); // never started: its data connection (and any opened file) must not leak
            throw;
        }

        if (reply.Transfer is { } job)
        {
            _s.Transfers.Start(job);
            _s.Server.Fleet?.Touch(Id); // the registry shows the transfer from its start
        }
        else if (reply.StartsTls)
        {
            _s.Tls.Policy = _s.Server.ExplicitTls;
            var tls = _s.Server.ControlTlsOptions(_s.Tls.Policy);
            if (await _control.UpgradeToTlsAsync(tls, _s.Options.DataConnectionTimeout, _s.Server.Time, ct))
            {
                _s.Tls.Certificate = tls.ServerCertificate as System.Security.Cryptography.X509Certificates.X509Certificate2;
                _s.Tls.Active = true;
                AccessCommands.ResetLogin(_s); // RFC 4217 §4: a new security context starts a new login.
            }
            else
            {
                End(SessionEndReason.ProtocolError);
            }
        }
        else if (reply.EndsSession is { } reason)
        {
            End(reason);
        }
    }

    private void CountCommand(string verb, int code) => _s.Server.Telemetry.CountCommand(verb, code);

    /// <summary>Records why the session ends; the first reason wins.</summary>
    private bool End(SessionEndReason reason) => Interlocked.CompareExchange(ref _endReason, (int)reason, NotEnded) == NotEnded;

    /// <summary>
    /// Implicit FTPS: TLS from the first byte, and data connections protected until PROT C says otherwise. The
    /// handshake gets the same time as the one after AUTH TLS (Ftp:DataConnectionTimeout).
    /// </summary>
    private async Task<bool> StartImplicitTlsAsync(CancellationToken ct)
    {
        _s.Tls.Policy = _s.Server.ImplicitTls;
        var tls = _s.Server.ControlTlsOptions(_s.Tls.Policy);
        if (!await _control.UpgradeToTlsAsync(tls, _s.Options.DataConnectionTimeout, _s.Server.Time, ct))
        {
            End(SessionEndReason.ProtocolError);
            return false;
        }

        _s.Tls.Certificate = tls.ServerCertificate as System.Security.Cryptography.X509Certificates.X509Certificate2;

        _s.Tls.Active = true;
        _s.Tls.BufferSizeSet = true;
        _s.Tls.ProtectData = true;
        return true;
    }

    Task ITransferOwner.SendFinalReplyAsync(FtpReply reply) => _control.WriteAsync(reply);

    void ITransferOwner.TransferEnded() => _timeouts.Touch();

    /// <summary>A beat of the server's heartbeat (<see cref="SessionTimeouts"/>).</summary>
    internal void OnHeartbeat() => _timeouts.Check();

    bool IClientPresence.ControlConnectionLost => _cts.IsCancellationRequested || EndReason == SessionEndReason.ClientClosed || _control.IsLost();

    Transfer? ITimeoutHandler.CurrentTransfer => _s.Transfers.Current;

    System.Security.Cryptography.X509Certificates.X509Certificate2? ITransferOwner.TlsCertificate => _s.Tls.Certificate;

    Security.TlsPolicy ITransferOwner.TlsPolicy => _s.Tls.Policy;

    TimeSpan ITimeoutHandler.IdleTimeout => _s.IdleTimeout;

    long? ITimeoutHandler.LoginStartedAt => _s.Login.User is null ? _s.Login.StartedAt : null;

    void ITimeoutHandler.OnTimeout(SessionEndReason reason)
    {
        if (End(reason))
        {
            _ = CloseAsync(reason == SessionEndReason.LoginTimeout
                ? "Login timeout; closing control connection."
                : "Idle timeout; closing control connection.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _timeouts.Dispose();
        _s.Dispose();
        await _control.DisposeAsync();
        _cts.Dispose();
        _commandGate.Dispose();
    }
}

using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Storage;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Transfers;

/// <summary>What a transfer's end is handed to: its session.</summary>
internal interface ITransferOwner
{
    /// <summary>Sends a transfer's final reply on the control connection.</summary>
    Task SendFinalReplyAsync(FtpReply reply);

    /// <summary>A transfer ended: the session's idle time starts now.</summary>
    void TransferEnded();

    /// <summary>The certificate of the session's TLS handshake (its data connections show the same one); null before.</summary>
    System.Security.Cryptography.X509Certificates.X509Certificate2? TlsCertificate { get; }

    /// <summary>The TLS policy of the session's port, for its data connections.</summary>
    Security.TlsPolicy TlsPolicy { get; }
}

/// <summary>
/// Runs a session's transfers, one at a time, in the background (so ABOR, STAT and NOOP are answered while one
/// runs): opens the data connection, protects it (PROT P), runs the job, closes it cleanly, sorts any failure
/// into a <see cref="TransferOutcome"/>, hands the <see cref="TransferReport"/> to its sinks, and sends the final reply.
/// </summary>
internal sealed class TransferRunner(FtpServerContext server, ILogger logger, ITransferOwner owner)
{
    private readonly TransferRecorder _recorder = new(server, logger);
    private volatile Transfer? _current;

    /// <summary>The running transfer, if any.</summary>
    public Transfer? Current => _current;

    /// <summary>Starts <paramref name="job"/> in the background; its 150 has been sent.</summary>
    public void Start(TransferJob job)
    {
        var transfer = new Transfer(job);
        _current = transfer;
        transfer.Completion = Task.Run(() => RunAsync(transfer));
    }

    /// <summary>Waits for the running transfer (and its final reply), if any.</summary>
    public async Task WaitAsync()
    {
        if (_current is { } transfer)
        {
            await transfer.Completion;
        }
    }

    /// <summary>Cuts the running transfer short and waits until it has ended.</summary>
    public async Task CancelAsync(TransferFailure reason)
    {
        if (_current is { } transfer)
        {
            transfer.Cancel(reason);
            await transfer.Completion;
        }
    }

    private async Task RunAsync(Transfer transfer)
    {
        var job = transfer.Job;
        var provider = job.StorageProvider ?? server.Storage.Name;
        var started = server.Time.GetTimestamp();
        using var activity = FtpTelemetry.Source.StartActivity("ftp.transfer " + job.Verb);
        activity?.SetTag("ftp.transfer.direction", TransferReport.Names.Of(job.Direction));
        activity?.SetTag("ftp.path", job.StoragePath.Value);
        activity?.SetTag("storage.provider", provider);
        activity?.SetTag("storage.target", job.StorageTarget);

        var outcome = await ExecuteAsync(transfer);
        var report = new TransferReport(
            job.Verb, job.Direction, job.Path, job.StoragePath, job.StorageTarget, provider, job.Party, outcome, transfer.Bytes,
            server.Time.GetElapsedTime(started), server.Time.GetUtcNow())
        {
            CutShort = transfer.CutShort is not null,
            TraceId = activity?.TraceId.ToString(),
            Findings = job.Findings,
        };
        _recorder.Record(report, activity);
        server.Telemetry.CountCommand(job.Verb, outcome.Code); // the final reply, not the 150
        owner.TransferEnded();
        try
        {
            if (outcome.Failure != TransferFailure.ControlConnectionLost)
            {
                await owner.SendFinalReplyAsync(FtpReply.Of(outcome.Code, outcome.Text));
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The control connection is gone; the session loop notices on its own.
        }
        finally
        {
            _current = null;
            transfer.Dispose();
            if (transfer.Job.Party is { } party)
            {
                server.Fleet?.Touch(party.SessionId);
            }
        }
    }

    private async Task<TransferOutcome> ExecuteAsync(Transfer transfer)
    {
        var job = transfer.Job;
        try
        {
            using var socket = await OpenAsync(job.Channel, transfer.Token);
            if (socket is null)
            {
                return TransferOutcome.Failed(TransferFailure.DataConnectionNotOpened, ReplyCodes.CantOpenDataConnection, "Can't open data connection.");
            }

            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (job.Protected)
            {
                stream = await ProtectAsync(stream, transfer.Token);
            }

            await using var data = new DataConnectionStream(stream, server.Time) { Throttle = job.Throttle };
            transfer.Data = data;
            var text = await job.Work(data, transfer.Token);
            await CloseAsync(stream, socket, job.Direction == TransferDirection.Upload);
            return TransferOutcome.Completed(text);
        }
        catch (Exception ex) when (transfer.CutShort is { } reason && IsDataOrCancellation(ex))
        {
            return TransferOutcome.Failed(reason, ReplyCodes.TransferAborted, reason switch
            {
                TransferFailure.Timeout => "Data connection timed out; transfer aborted.",
                TransferFailure.TooSlow => "Transfer slower than this server's minimum data rate; transfer aborted.",
                TransferFailure.EndedByOperator => "The operator ended this session; transfer aborted.",
                _ => "Connection closed; transfer aborted.",
            });
        }
        catch (Exception ex) when (ex is DataConnectionException or IOException or SocketException or AuthenticationException)
        {
            // A reset or broken connection, or a TLS handshake on it that failed or timed out.
            return TransferOutcome.Failed(TransferFailure.DataConnectionBroken, ReplyCodes.TransferAborted, "Data connection failed; transfer aborted.", ex.Message);
        }
        catch (Checks.UploadRefusedException ex)
        {
            return TransferOutcome.Failed(TransferFailure.Refused, ex.Code, ex.Message, ex.Reason);
        }
        catch (UploadLimitExceededException ex)
        {
            return TransferOutcome.Failed(TransferFailure.SizeLimit, ReplyCodes.ExceededStorage, ex.Reply ?? "File larger than your upload limit; nothing stored.");
        }
        catch (StorageException ex)
        {
            Log.StorageError(logger, ex, job.Verb, ex.Kind);
            return TransferOutcome.StorageFailed(ex.Kind);
        }
        catch (Exception ex)
        {
            Log.UnexpectedError(logger, ex, job.Verb);
            return TransferOutcome.Failed(TransferFailure.LocalError, ReplyCodes.LocalError, "Local error in processing; transfer aborted.", ex.GetType().Name);
        }
        finally
        {
            job.Dispose();
        }
    }

    private static bool IsDataOrCancellation(Exception ex) =>
        ex is OperationCanceledException or DataConnectionException or IOException or SocketException or AuthenticationException;

    private async Task<Socket?> OpenAsync(DataChannel channel, CancellationToken ct)
    {
        try
        {
            return await channel.OpenAsync(server.Options.DataConnectionTimeout, ct);
        }
        catch (Exception ex) when (ex is TimeoutException or SocketException)
        {
            if (channel is PassiveDataChannel { RejectedPeers: > 0 })
            {
                Log.DataPeerRefused(logger, "another address");
            }

            return null;
        }
    }

    private async Task<Stream> ProtectAsync(Stream stream, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(server.Options.DataConnectionTimeout, server.Time);
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        SslStream? ssl = null;
        try
        {
            var hello = await ClientHello.ReadAsync(stream, handshake.Token);
            ssl = new SslStream(hello.Replayed(stream), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsServerAsync(server.DataTlsOptions(hello.Offered, owner.TlsCertificate, owner.TlsPolicy), handshake.Token);
            return ssl;
        }
        catch (Exception ex) when (ex is OperationCanceledException && deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            await DisposeAsync(ssl, stream);
            throw new DataConnectionException("The TLS handshake on the data connection timed out", ex);
        }
        catch (EndOfStreamException ex)
        {
            await DisposeAsync(ssl, stream);
            throw new DataConnectionException("The data connection closed before its TLS handshake", ex);
        }
        catch
        {
            await DisposeAsync(ssl, stream);
            throw;
        }

        static async ValueTask DisposeAsync(SslStream? ssl, Stream stream) => await (ssl ?? stream).DisposeAsync();
    }

    /// <summary>
    /// Ends the data connection cleanly (TLS close_notify, then FIN) so a downloading client sees the whole
    /// file. After an upload the file is already committed and the client has usually closed its side
    /// already: a failure to say goodbye then changes nothing and must not turn 226 into 426.
    /// </summary>
    private static async Task CloseAsync(Stream stream, Socket socket, bool upload)
    {
        try
        {
            if (stream is SslStream ssl)
            {
                await ssl.ShutdownAsync();
            }

            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (upload && ex is IOException or SocketException)
        {
        }
    }
}

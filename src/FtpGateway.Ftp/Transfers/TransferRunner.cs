using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Storage;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Transfers;

/// <summary>
/// Runs a session's transfers, one at a time, in the background (so ABOR, STAT and NOOP are answered while one
/// runs): opens the data connection, protects it (PROT P), runs the job, closes it cleanly, sorts any failure
/// into a <see cref="TransferFailure"/>, records it (span, metrics, log), and sends the final reply.
/// </summary>
internal sealed class TransferRunner(FtpServerContext server, ILogger logger, Func<FtpReply, Task> sendReply, Action transferEnded)
{
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
        var started = server.Time.GetTimestamp();
        using var activity = FtpTelemetry.Source.StartActivity("ftp.transfer " + job.Verb);
        activity?.SetTag("ftp.transfer.direction", DirectionName(job.Direction));
        activity?.SetTag("ftp.path", job.StoragePath.Value);
        activity?.SetTag("storage.provider", job.StorageProvider ?? server.Storage.Name);
        activity?.SetTag("storage.target", job.StorageTarget);
        var outcome = await ExecuteAsync(transfer);
        Record(activity, transfer, outcome, server.Time.GetElapsedTime(started));
        server.Telemetry.CountCommand(job.Verb, outcome.Code); // the final reply, not the 150
        transferEnded();
        try
        {
            if (outcome.Failure != TransferFailure.ControlConnectionLost)
            {
                await sendReply(FtpReply.Of(outcome.Code, outcome.Text));
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
                _ => "Connection closed; transfer aborted.",
            });
        }
        catch (Exception ex) when (ex is DataConnectionException or IOException or SocketException or AuthenticationException)
        {
            // A reset or broken connection, or a TLS handshake on it that failed or timed out.
            return TransferOutcome.Failed(TransferFailure.DataConnectionBroken, ReplyCodes.TransferAborted, "Data connection failed; transfer aborted.", ex.Message);
        }
        catch (UploadLimitExceededException)
        {
            return TransferOutcome.Failed(TransferFailure.SizeLimit, ReplyCodes.ExceededStorage, "File larger than your upload limit; nothing stored.");
        }
        catch (StorageException ex)
        {
            Log.StorageError(logger, ex, job.Verb, ex.Kind);
            var (code, text) = ReplyMapper.Map(ex.Kind);
            return TransferOutcome.Failed(TransferFailure.StorageFailed, code, text, ex.Kind.ToString());
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
            await ssl.AuthenticateAsServerAsync(server.DataTlsOptions(hello.Offered), handshake.Token);
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

    private void Record(Activity? activity, Transfer transfer, TransferOutcome outcome, TimeSpan elapsed)
    {
        var job = transfer.Job;
        var bytes = transfer.Bytes;
        var telemetry = server.Telemetry;
        var provider = new KeyValuePair<string, object?>("storage.provider", job.StorageProvider ?? server.Storage.Name);
        var target = new KeyValuePair<string, object?>("storage.target", job.StorageTarget);
        var direction = new KeyValuePair<string, object?>("ftp.transfer.direction", DirectionName(job.Direction));
        telemetry.Bytes.Add(bytes, direction, provider, target);
        telemetry.TransferDuration.Record(elapsed.TotalSeconds, direction, provider, target, new KeyValuePair<string, object?>("ftp.transfer.result", outcome.Result));
        if (outcome.Failure is TransferFailure.DataConnectionNotOpened or TransferFailure.DataConnectionBroken)
        {
            telemetry.DataConnectionFailures.Add(1);
        }

        if (job.Direction != TransferDirection.Listing && job.Party is { } party)
        {
            Publish(job, party, outcome, bytes, elapsed);
            server.Audit.Record(new Audit.AuditRecord(
                server.Time.GetUtcNow(), party.User, party.Anonymous, party.ClientAddress, party.SessionId, DirectionName(job.Direction), job.Verb,
                job.Path.Value, job.StorageTarget, job.StorageProvider ?? server.Storage.Name, bytes, elapsed.TotalSeconds, outcome.Result,
                outcome.Failure is null ? null : outcome.Detail ?? outcome.Result, outcome.Code, party.Ascii, activity?.TraceId.ToString()));
        }

        if (outcome.Failure is null && job.Direction == TransferDirection.Upload && job.Party is { } uploader)
        {
            telemetry.UserUploaded(uploader.User);
        }

        if (outcome.Failure is null)
        {
            Log.TransferCompleted(logger, job.Verb, job.StoragePath.Value, bytes, (long)elapsed.TotalMilliseconds);
        }
        else if (outcome.Failure is TransferFailure.StorageFailed or TransferFailure.LocalError
            && !(outcome.Failure == TransferFailure.StorageFailed && Enum.TryParse<StorageErrorKind>(outcome.Result, out var kind) && Log.IsClientCondition(kind)))
        {
            Log.TransferFailed(logger, job.Verb, job.StoragePath.Value, bytes, outcome.Detail ?? outcome.Result);
        }
        else
        {
            Log.TransferIncomplete(logger, job.Verb, job.StoragePath.Value, bytes, outcome.Detail ?? outcome.Result);
        }

        if (activity is null)
        {
            return;
        }

        activity.SetTag("ftp.transfer.bytes", bytes);
        activity.SetTag("ftp.transfer.result", outcome.Result);
        activity.SetTag("ftp.transfer.aborted", transfer.CutShort is not null);
        activity.SetTag("ftp.reply_code", outcome.Code);
        if (outcome.Failure is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error);
            activity.SetTag("error.type", outcome.Result);
        }
    }

    /// <summary>
    /// upload.completed exactly once per committed upload (a 226: the storage committed it), upload.failed for one
    /// that did not commit, download.completed for a whole download.
    /// </summary>
    private void Publish(TransferJob job, TransferParty party, TransferOutcome outcome, long bytes, TimeSpan elapsed)
    {
        var type = (job.Direction, outcome.Failure) switch
        {
            (TransferDirection.Upload, null) => Events.EventTypes.UploadCompleted,
            (TransferDirection.Upload, _) => Events.EventTypes.UploadFailed,
            (TransferDirection.Download, null) => Events.EventTypes.DownloadCompleted,
            _ => null,
        };
        if (type is null || !server.Events.Enabled)
        {
            return;
        }

        var data = new Dictionary<string, object?>
        {
            ["user"] = party.User,
            ["clientAddress"] = party.ClientAddress,
            ["sessionId"] = party.SessionId,
            ["path"] = job.Path.Value,
            ["storageTarget"] = job.StorageTarget,
            ["storageProvider"] = job.StorageProvider ?? server.Storage.Name,
            ["location"] = server.Locate(job.StorageTarget, job.StoragePath),
            ["size"] = bytes,
            ["durationSeconds"] = Math.Round(elapsed.TotalSeconds, 3),
        };
        if (outcome.Failure is not null)
        {
            data["reason"] = outcome.Failure switch
            {
                TransferFailure.Aborted => "aborted",
                TransferFailure.ControlConnectionLost or TransferFailure.DataConnectionBroken or TransferFailure.DataConnectionNotOpened => "connection lost",
                TransferFailure.StorageFailed => "store failure",
                TransferFailure.SizeLimit => "size limit",
                TransferFailure.Timeout or TransferFailure.TooSlow => "timeout",
                _ => "local error",
            };
            data["detail"] = outcome.Result;
        }

        server.Events.Publish(type, job.Path.Value, data);
    }

    internal static string DirectionName(TransferDirection direction) => direction switch
    {
        TransferDirection.Upload => "upload",
        TransferDirection.Download => "download",
        _ => "listing",
    };

    /// <summary>How a transfer ended: the final reply, and the value logs, traces and metrics carry.</summary>
    private readonly record struct TransferOutcome(TransferFailure? Failure, int Code, string Text, string Result, string? Detail)
    {
        public static TransferOutcome Completed(string text) => new(null, ReplyCodes.ClosingData, text, "completed", null);

        /// <summary>
        /// The failure's name is the value of <c>ftp.transfer.result</c> and <c>error.type</c>; for a storage
        /// failure it is the storage error kind (<paramref name="detail"/>), which says more.
        /// </summary>
        public static TransferOutcome Failed(TransferFailure failure, int code, string text, string? detail = null) =>
            new(failure, code, text, failure == TransferFailure.StorageFailed && detail is not null ? detail : failure.ToString(), detail);
    }
}

using System.Buffers;
using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using FtpGateway.Ftp.Data;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Session;

/// <summary>Why a transfer was cut short.</summary>
internal enum TransferEnd
{
    Aborted,
    Timeout,
    ControlConnectionLost,
}

internal sealed partial class FtpSession
{
    private const int CopyBufferSize = 128 * 1024;

    private DataChannel? _pendingData;
    private volatile Transfer? _transfer;

    /// <summary>A running transfer: what it is, how far it got, and how to cut it short.</summary>
    private sealed class Transfer(string verb, StoragePath path) : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();

        public string Verb => verb;

        public StoragePath Path => path;

        public CancellationToken Token => _cts.Token;

        public DataConnectionStream? Data { get; set; }

        public TransferEnd? EndReason { get; private set; }

        public Task Completion { get; set; } = Task.CompletedTask;

        public void Cancel(TransferEnd reason)
        {
            EndReason ??= reason;
            try
            {
                _cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Dispose() => _cts.Dispose();
    }

    // ---- Transfer commands ----------------------------------------------------------------------

    internal async Task RetrAsync(string argument, CancellationToken ct)
    {
        var offset = TakeRestOffset();
        if (!await Require(_user!.CanRead) || await StatFileOrReply(argument, ct) is not { } entry || !await RequireDataChannel())
        {
            return;
        }

        // Opened before the 150 so that a missing file or bad offset gets its own reply, not a failed transfer.
        var source = await _storage.OpenReadAsync(entry.Path, offset, ct);
        var ascii = _ascii;
        await StartTransferAsync("RETR", entry.Path, $"Opening {ModeName} mode data connection for {entry.Name} ({entry.Size - offset} bytes).", async (data, token) =>
        {
            await using (source)
            {
                await SendAsync(source, data, ascii, token);
            }

            return "Transfer complete.";
        });
    }

    internal Task StorAsync(string argument, CancellationToken ct)
    {
        var offset = TakeRestOffset();
        return StoreAsync("STOR", argument, offset > 0 ? UploadMode.Resume : UploadMode.Replace, offset, ct);
    }

    internal Task AppeAsync(string argument, CancellationToken ct)
    {
        TakeRestOffset(); // APPE always appends at the end (RFC 959 §4.1.3)
        return StoreAsync("APPE", argument, UploadMode.Append, 0, ct);
    }

    internal async Task StouAsync(string argument, CancellationToken ct)
    {
        TakeRestOffset();
        if (!await Require(_user!.CanWrite) || await TryResolveOrReply(argument.Length == 0 ? "ftp" : argument) is not { } basePath)
        {
            return;
        }

        // RFC 1123 §4.1.2.9: the reply carries "FILE: name". A name that exists is never overwritten (CreateNew).
        var name = $"{(basePath.IsRoot ? "ftp" : basePath.Name)}.{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 6))}";
        await StoreAsync("STOU", (basePath.IsRoot ? StoragePath.Root : basePath.Parent).Child(name).Value, UploadMode.CreateNew, 0, ct, uniqueName: name);
    }

    private async Task StoreAsync(string verb, string argument, UploadMode mode, long offset, CancellationToken ct, string? uniqueName = null)
    {
        if (!await Require(_user!.CanWrite) || await TryResolveOrReply(argument) is not { } path)
        {
            return;
        }

        var needed = mode switch
        {
            UploadMode.Append => StorageCapabilities.Append,
            UploadMode.Resume => StorageCapabilities.ResumeUpload,
            _ => StorageCapabilities.None,
        };
        if ((_storage.Capabilities & needed) != needed)
        {
            await ReplyAsync(ReplyCodes.NotImplemented, mode == UploadMode.Append ? "APPE is not supported by this storage." : "Resuming uploads is not supported by this storage.");
            return;
        }

        // The provider checks the target itself (a directory, a missing parent); only a restart offset is
        // checked here, so that it is refused before 150. On object stores every check is a round trip.
        var target = ToStorage(path);
        if (mode == UploadMode.Resume)
        {
            var existing = await _storage.GetEntryAsync(target, ct);
            if (existing is null || existing.IsDirectory || offset > existing.Size)
            {
                await ReplyAsync(ReplyCodes.InvalidRestartOffset, "Restart offset is beyond the end of the file.");
                return;
            }
        }

        if (!await RequireDataChannel())
        {
            return;
        }

        var ascii = _ascii;
        var opening = uniqueName is null ? $"Opening {ModeName} mode data connection for {path.Name}." : $"FILE: {uniqueName}";
        await StartTransferAsync(verb, target, opening, async (data, token) =>
        {
            Stream source = ascii ? new AsciiUploadStream(data) : data;
            var request = new UploadRequest(target, source)
            {
                Mode = mode,
                Offset = offset,
                BeforeCommit = ConfirmClientPresentAsync,
            };
            await _storage.UploadAsync(request, token);
            return uniqueName is null ? "Transfer complete." : $"Transfer complete (unique file name: {uniqueName}).";
        }, upload: true);
    }

    /// <summary>
    /// Called by the provider after the data connection ended cleanly and before the commit: a client that
    /// was killed closes its data connection just like one that finished, but its control connection is gone too.
    /// </summary>
    private ValueTask ConfirmClientPresentAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return ControlConnectionLost()
            ? throw new DataConnectionException("The control connection closed before the upload could be confirmed")
            : ValueTask.CompletedTask;
    }

    internal Task ListAsync(string argument, CancellationToken ct) =>
        ListingAsync("LIST", StripListOptions(argument), (entry, now) => ListingFormatter.FormatList(entry, now, _user!.CanModify), ct);

    internal Task NlstAsync(string argument, CancellationToken ct) =>
        ListingAsync("NLST", StripListOptions(argument), (entry, _) => entry.Name, ct);

    internal Task MlsdAsync(string argument, CancellationToken ct) =>
        ListingAsync("MLSD", argument, (entry, _) => Facts(entry, entry.Name), ct, directoryOnly: true);

    private async Task ListingAsync(string verb, string argument, Func<StorageEntry, DateTimeOffset, string> format, CancellationToken ct, bool directoryOnly = false)
    {
        if (await ReadableEntryOrReply(argument, ct) is not { } found)
        {
            return;
        }

        var entry = found.Entry;

        if (directoryOnly && !entry.IsDirectory)
        {
            await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Not a directory."); // RFC 3659 §7.1
            return;
        }

        if (!await RequireDataChannel())
        {
            return;
        }

        await StartTransferAsync(verb, entry.Path, "Opening data connection for directory listing.", async (data, token) =>
        {
            // Streamed entry by entry through a small buffer: a directory of a million entries is never held.
            var writer = new StreamWriter(data, Utf8, 64 * 1024, leaveOpen: true) { NewLine = "\r\n", AutoFlush = false };
            await using (writer)
            {
                var now = _server.Time.GetUtcNow();
                var entries = entry.IsDirectory ? _storage.ListAsync(entry.Path, token) : One(entry);
                await foreach (var item in entries.WithCancellation(token))
                {
                    await writer.WriteLineAsync(format(item, now).AsMemory(), token);
                }

                await writer.FlushAsync(token);
            }

            return "Transfer complete.";
        });
    }

    internal async Task AborAsync(string argument, CancellationToken ct)
    {
        var transfer = _transfer;
        if (transfer is null)
        {
            var hadChannel = _pendingData is not null;
            ClearPendingData();
            await ReplyAsync(hadChannel ? ReplyCodes.ClosingData : ReplyCodes.DataOpenNoTransfer, "No transfer to abort.");
            return;
        }

        // RFC 959 §4.1.3: the transfer's own reply (426) comes first, then 226 for the ABOR.
        transfer.Cancel(TransferEnd.Aborted);
        await transfer.Completion;
        await ReplyAsync(ReplyCodes.ClosingData, "ABOR command successful.");
    }

    // ---- Machinery ------------------------------------------------------------------------------

    private string ModeName => _ascii ? "ASCII" : "BINARY";

    private long TakeRestOffset()
    {
        var offset = _restOffset;
        _restOffset = 0;
        return offset;
    }

    private async Task<bool> RequireDataChannel()
    {
        if (_pendingData is null)
        {
            await ReplyAsync(ReplyCodes.CantOpenDataConnection, "Use PORT, EPRT, PASV or EPSV first.");
            return false;
        }

        if (_options.Tls.Required && !_protectData)
        {
            await ReplyAsync(ReplyCodes.ProtectionLevelDenied, "This server requires PROT P for data connections.");
            return false;
        }

        return true;
    }

    private void ClearPendingData()
    {
        _pendingData?.Dispose();
        _pendingData = null;
    }

    /// <summary>
    /// Sends 150, then runs the transfer in the background: open the data connection, run
    /// <paramref name="work"/>, close, and reply 226 (or the failure's code). Returns once 150 is sent.
    /// </summary>
    private async Task StartTransferAsync(string verb, StoragePath path, string openingText, Func<DataConnectionStream, CancellationToken, Task<string>> work, bool upload = false)
    {
        var channel = _pendingData!;
        _pendingData = null;
        var transfer = new Transfer(verb, path);
        await ReplyAsync(ReplyCodes.FileStatusOkay, openingText);
        _transfer = transfer;
        transfer.Completion = Task.Run(() => RunTransferAsync(transfer, channel, work, upload));
    }

    private async Task RunTransferAsync(Transfer transfer, DataChannel channel, Func<DataConnectionStream, CancellationToken, Task<string>> work, bool upload)
    {
        var started = Stopwatch.GetTimestamp();
        var direction = transfer.Verb switch { "RETR" => "download", "STOR" or "APPE" or "STOU" => "upload", _ => "listing" };
        using var activity = FtpTelemetry.Source.StartActivity("ftp.transfer " + transfer.Verb);
        activity?.SetTag("ftp.transfer.direction", direction);
        activity?.SetTag("ftp.path", transfer.Path.Value);
        activity?.SetTag("storage.provider", _storage.Name);
        int code;
        string text;
        string? failure = null;
        try
        {
            using var socket = await OpenDataAsync(channel, transfer.Token);
            if (socket is null)
            {
                (code, text, failure) = (ReplyCodes.CantOpenDataConnection, "Can't open data connection.", "data connection did not open");
            }
            else
            {
                Stream stream = new NetworkStream(socket, ownsSocket: false);
                if (_protectData)
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    using var handshake = CancellationTokenSource.CreateLinkedTokenSource(transfer.Token);
                    handshake.CancelAfter(_options.DataConnectionTimeout);
                    await ssl.AuthenticateAsServerAsync(ServerTlsOptions(data: true), handshake.Token);
                    stream = ssl;
                }

                await using var data = new DataConnectionStream(stream);
                transfer.Data = data;
                text = await work(data, transfer.Token);
                await CloseDataAsync(stream, socket, upload);
                code = ReplyCodes.ClosingData;
            }
        }
        catch (Exception ex) when (transfer.EndReason is { } reason && ex is OperationCanceledException or DataConnectionException or IOException or SocketException or AuthenticationException)
        {
            (code, text, failure) = (ReplyCodes.TransferAborted, reason == TransferEnd.Timeout ? "Data connection timed out; transfer aborted." : "Connection closed; transfer aborted.", reason.ToString());
        }
        catch (Exception ex) when (ex is DataConnectionException or IOException or SocketException or AuthenticationException)
        {
            (code, text, failure) = (ReplyCodes.TransferAborted, "Data connection failed; transfer aborted.", ex.Message);
        }
        catch (StorageException ex)
        {
            Log.StorageError(_logger, ex, transfer.Verb, ex.Kind);
            (code, text) = ReplyMapper.Map(ex.Kind);
            failure = ex.Kind.ToString();
        }
        catch (Exception ex)
        {
            Log.UnexpectedError(_logger, ex, transfer.Verb);
            (code, text, failure) = (ReplyCodes.LocalError, "Local error in processing; transfer aborted.", ex.GetType().Name);
        }
        finally
        {
            channel.Dispose();
        }

        var bytes = transfer.Data?.Bytes ?? 0;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var result = failure is null ? "completed" : transfer.EndReason?.ToString() ?? failure;
        RecordTransfer(activity, direction, bytes, seconds, code, result, transfer.EndReason is not null);
        if (failure is null)
        {
            Log.TransferCompleted(_logger, transfer.Verb, transfer.Path.Value, bytes, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        else
        {
            Log.TransferFailed(_logger, transfer.Verb, transfer.Path.Value, bytes, failure);
        }

        Interlocked.Exchange(ref _lastActivity, Environment.TickCount64);
        try
        {
            if (transfer.EndReason != TransferEnd.ControlConnectionLost)
            {
                await TransferReplyAsync(code, text);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // The control connection is gone; the session loop notices on its own.
        }
        finally
        {
            _transfer = null;
            transfer.Dispose();
        }
    }

    private void RecordTransfer(Activity? activity, string direction, long bytes, double seconds, int code, string result, bool cutShort)
    {
        var telemetry = _server.Telemetry;
        var provider = new KeyValuePair<string, object?>("storage.provider", _storage.Name);
        var directionTag = new KeyValuePair<string, object?>("ftp.transfer.direction", direction);
        telemetry.Bytes.Add(bytes, directionTag, provider);
        telemetry.TransferDuration.Record(seconds, directionTag, provider, new KeyValuePair<string, object?>("ftp.transfer.result", result));
        if (code == ReplyCodes.CantOpenDataConnection || result.StartsWith("data connection", StringComparison.Ordinal))
        {
            telemetry.DataConnectionFailures.Add(1);
        }

        if (activity is null)
        {
            return;
        }

        activity.SetTag("ftp.transfer.bytes", bytes);
        activity.SetTag("ftp.transfer.result", result);
        activity.SetTag("ftp.transfer.aborted", cutShort);
        activity.SetTag("ftp.reply_code", code);
        if (code != ReplyCodes.ClosingData)
        {
            activity.SetStatus(ActivityStatusCode.Error);
            activity.SetTag("error.type", result);
        }
    }

    private async Task<Socket?> OpenDataAsync(DataChannel channel, CancellationToken ct)
    {
        try
        {
            return await channel.OpenAsync(_options.DataConnectionTimeout, ct);
        }
        catch (Exception ex) when (ex is TimeoutException or SocketException)
        {
            if (channel is PassiveDataChannel { RejectedPeers: > 0 })
            {
                Log.DataPeerRefused(_logger, "another address");
            }

            return null;
        }
    }

    /// <summary>
    /// Ends the data connection cleanly (TLS close_notify, then FIN) so a downloading client sees the whole
    /// file. After an upload the file is already committed and the client has usually closed its side
    /// already: a failure to say goodbye then changes nothing and must not turn 226 into 426.
    /// </summary>
    private static async Task CloseDataAsync(Stream stream, Socket socket, bool upload)
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

    private static async Task SendAsync(Stream source, Stream data, bool ascii, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        var converted = ascii ? ArrayPool<byte>.Shared.Rent(CopyBufferSize * 2) : null;
        try
        {
            var lastWasCr = false;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferSize), ct)) > 0)
            {
                if (converted is null)
                {
                    await data.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                else
                {
                    var n = AsciiConversion.ToNetwork(buffer.AsSpan(0, read), converted, ref lastWasCr);
                    await data.WriteAsync(converted.AsMemory(0, n), ct);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (converted is not null)
            {
                ArrayPool<byte>.Shared.Return(converted);
            }
        }
    }

    /// <summary>Commands other than ABOR/STAT/NOOP/... run after the current transfer, in order.</summary>
    private async Task WaitForTransferAsync()
    {
        if (_transfer is { } transfer)
        {
            await transfer.Completion;
        }
    }

    private async Task CancelTransferAsync(TransferEnd reason)
    {
        if (_transfer is { } transfer)
        {
            transfer.Cancel(reason);
            await transfer.Completion;
        }
    }
}

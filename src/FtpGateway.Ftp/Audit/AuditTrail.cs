using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Audit;

/// <summary>How the audit file is written.</summary>
public enum AuditFormat
{
    /// <summary>One JSON object per line, the same fields as the audit log line.</summary>
    Json,

    /// <summary>The classic xferlog format of wu-ftpd, vsftpd and pure-ftpd, which many log tools parse.</summary>
    Xferlog,
}

/// <summary>Configuration section <c>Audit</c>.</summary>
public sealed class AuditOptions
{
    public const string SectionName = "Audit";

    /// <summary>A file the audit trail is appended to, besides the <c>FtpGateway.Audit</c> log category; empty: none.</summary>
    public string? File { get; set; }

    public AuditFormat Format { get; set; } = AuditFormat.Json;
}

/// <summary>One finished transfer, as the audit trail records it (and as its JSON lines name the fields).</summary>
internal sealed record AuditRecord
{
    public required DateTimeOffset Time { get; init; }

    public required string User { get; init; }

    public required bool Anonymous { get; init; }

    public required string ClientAddress { get; init; }

    public required string SessionId { get; init; }

    /// <summary>upload or download.</summary>
    public required string Direction { get; init; }

    public required string Verb { get; init; }

    /// <summary>The path as the user sees it.</summary>
    public required string Path { get; init; }

    public required string StorageTarget { get; init; }

    public required string StorageProvider { get; init; }

    public required long Bytes { get; init; }

    public required double DurationSeconds { get; init; }

    /// <summary>completed, or why not (the value of ftp.transfer.result).</summary>
    public required string Result { get; init; }

    /// <summary>What the failure said; null when it completed.</summary>
    public required string? Reason { get; init; }

    public required int ReplyCode { get; init; }

    /// <summary>TYPE A: the bytes were converted (xferlog's transfer type).</summary>
    public required bool Ascii { get; init; }

    public required string? TraceId { get; init; }

    /// <summary>A completed upload: the whole stored file's SHA-256 (lower-case hex); null otherwise.</summary>
    public string? Sha256 { get; init; }

    internal static AuditRecord Of(Transfers.TransferReport report, Transfers.TransferParty party) => new()
    {
        Time = report.Finished,
        User = party.User,
        Anonymous = party.Anonymous,
        ClientAddress = party.ClientAddress,
        SessionId = party.SessionId,
        Direction = report.DirectionName,
        Verb = report.Verb,
        Path = report.Path.Value,
        StorageTarget = report.StorageTarget,
        StorageProvider = report.StorageProvider,
        Bytes = report.Bytes,
        DurationSeconds = report.Elapsed.TotalSeconds,
        Result = report.Result,
        Reason = report.Reason,
        ReplyCode = report.Outcome.Code,
        Ascii = party.Ascii,
        TraceId = report.TraceId,
        Sha256 = report.Completed ? report.Findings?.Sha256 : null,
    };
}

/// <summary>
/// The audit trail: one structured line per finished upload or download on the log category
/// <c>FtpGateway.Audit</c> (whatever the outcome), and the same appended to <see cref="AuditOptions.File"/> when set,
/// as JSON lines or xferlog. The file is written by one background writer, so a slow disk never holds up a
/// transfer; it is opened for appending and shared for reading (rotate it with copytruncate).
/// </summary>
internal sealed partial class AuditTrail : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly ILogger _logger;
    private readonly AuditFormat _format;
    private readonly Channel<AuditRecord>? _pending;
    private readonly Task _writer = Task.CompletedTask;

    public AuditTrail(AuditOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _logger = loggerFactory.CreateLogger("FtpGateway.Audit");
        _format = options.Format;
        if (!string.IsNullOrWhiteSpace(options.File))
        {
            FileStream file;
            try
            {
                file = new FileStream(options.File, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                var reason = ex is DirectoryNotFoundException ? "its directory does not exist" : ex.Message;
                throw new InvalidOperationException($"Audit:File '{options.File}' cannot be opened for writing: {reason}", ex);
            }

            // Bounded: a file that cannot be written (disk full) must not grow memory; what does not fit is counted.
            _pending = Channel.CreateBounded<AuditRecord>(new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
            _writer = WriteAsync(file, _pending.Reader);
        }
    }

    /// <summary>A trail that only logs (tests, a gateway without an audit file).</summary>
    public static AuditTrail LogOnly(ILoggerFactory loggerFactory) => new(new AuditOptions(), loggerFactory);

    public void Record(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Transfer(
            _logger, record.Direction, record.User, record.ClientAddress, record.Path, record.Bytes, record.DurationSeconds, record.Result,
            record.Reason, record.SessionId, record.StorageTarget, record.StorageProvider, record.ReplyCode, record.TraceId, record.Sha256);
        if (_pending is not null && !_pending.Writer.TryWrite(record) && Interlocked.Increment(ref _lost) == 1)
        {
            Lost(_logger); // once: the file falls behind
        }
    }

    private long _lost;

    [LoggerMessage(653, LogLevel.Error, "The audit file falls behind: audit lines are dropped from it (the log category FtpGateway.Audit still has them)")]
    private static partial void Lost(ILogger logger);

    [LoggerMessage(652, LogLevel.Error, "Could not write to the audit file; the line stays in the log category FtpGateway.Audit")]
    private static partial void WriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(
        651,
        LogLevel.Information,
        "{Direction} {User}@{ClientAddress} {Path} {Bytes} bytes in {DurationSeconds:F3} s: {Result} {Reason} (session {SessionId}, target {StorageTarget}/{StorageProvider}, reply {ReplyCode}, trace {TraceId}, sha256 {Sha256})")]
    private static partial void Transfer(
        ILogger logger, string direction, string user, string clientAddress, string path, long bytes, double durationSeconds, string result,
        string? reason, string sessionId, string storageTarget, string storageProvider, int replyCode, string? traceId, string? sha256);

    private async Task WriteAsync(FileStream file, ChannelReader<AuditRecord> records)
    {
        await using (file)
        {
            await foreach (var record in records.ReadAllAsync())
            {
                var line = _format == AuditFormat.Xferlog ? Xferlog(record) : JsonSerializer.Serialize(record, Json);
                try
                {
                    // At the end every time: after a copytruncate rotation the file is empty again, and the next line
                    // goes to its start instead of leaving a hole of NUL bytes where the old end was.
                    file.Seek(0, SeekOrigin.End);
                    await file.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
                    await file.FlushAsync();
                }
                catch (IOException ex)
                {
                    WriteFailed(_logger, ex);
                }
            }
        }
    }

    /// <summary>
    /// <c>current-time transfer-time remote-host file-size filename transfer-type special-action-flag direction
    /// access-mode username service-name authentication-method authenticated-user-id completion-status</c>
    /// (xferlog(5)); whitespace in names becomes '_' so that the fields stay fields.
    /// </summary>
    internal static string Xferlog(AuditRecord r)
    {
        var t = r.Time.UtcDateTime;
        var time = string.Create(CultureInfo.InvariantCulture, $"{t:ddd MMM} {t.Day,2} {t:HH:mm:ss yyyy}");
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{time} {Math.Max(1, (long)Math.Round(r.DurationSeconds))} {r.ClientAddress} {r.Bytes} {Field(r.Path)} {(r.Ascii ? 'a' : 'b')} _ {(r.Direction == "upload" ? 'i' : 'o')} {(r.Anonymous ? 'a' : 'r')} {Field(r.User)} ftp 0 * {(r.Result == "completed" ? 'c' : 'i')}");
    }

    private static string Field(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsWhiteSpace(c) || char.IsControl(c) ? '_' : c);
        }

        return builder.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        _pending?.Writer.TryComplete();
        await _writer;
    }
}

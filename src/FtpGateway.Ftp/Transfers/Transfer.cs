using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Transfers;

/// <summary>Which way the bytes go on the data connection.</summary>
internal enum TransferDirection
{
    Upload,
    Download,
    Listing,
}

/// <summary>Why a transfer did not complete. Each kind has one reply and one value in logs, traces and metrics.</summary>
internal enum TransferFailure
{
    /// <summary>The data connection never opened (425).</summary>
    DataConnectionNotOpened,

    /// <summary>The data connection was reset or broke while the transfer ran (426).</summary>
    DataConnectionBroken,

    /// <summary>ABOR (426, then 226 for the ABOR).</summary>
    Aborted,

    /// <summary>The client stopped moving data for longer than the data timeout (426).</summary>
    Timeout,

    /// <summary>The client moved less than Ftp:MinDataRateBytesPerSecond over Ftp:MinDataRateWindow (426).</summary>
    TooSlow,

    /// <summary>The upload's checks refused it after its data (content type, size, the scanner); nothing was stored.</summary>
    Refused,

    /// <summary>The operator ended the session at once (the operator API's DELETE with now=true); an upload commits nothing.</summary>
    EndedByOperator,

    /// <summary>The control connection closed: nobody is left to answer, and an upload must not commit.</summary>
    ControlConnectionLost,

    /// <summary>The upload went past the user's MaxUploadBytes (552); nothing was stored.</summary>
    SizeLimit,

    /// <summary>The storage refused or failed (its reply from <see cref="Protocol.ReplyMapper"/>).</summary>
    StorageFailed,

    /// <summary>A bug or an unexpected condition in the gateway (451).</summary>
    LocalError,
}

/// <summary>The work of one transfer on an open data connection; returns the text of the 226.</summary>
internal delegate Task<string> TransferWork(DataConnectionStream data, CancellationToken cancellationToken);

/// <summary>
/// A transfer a command has prepared: what it is, where it goes, the negotiated data connection, whether that
/// connection runs TLS (PROT P), and the work to do on it. The <see cref="TransferRunner"/> does the rest; a job
/// that never starts is disposed, which releases its data connection and what the command opened for it.
/// </summary>
internal sealed record TransferJob(
    string Verb,
    TransferDirection Direction,
    UserPath Path,
    StoragePath StoragePath,
    DataChannel Channel,
    bool Protected,
    TransferWork Work) : IDisposable
{
    /// <summary>What the command opened for the transfer (a download's source), released with the job.</summary>
    public IDisposable? Opened { get; init; }

    /// <summary>The storage target the transfer reads or writes (<c>default</c>: the top-level Storage), for telemetry.</summary>
    public string StorageTarget { get; init; } = FtpGateway.Ftp.StorageTargets.Default;

    /// <summary>The provider of that target (<c>FileSystem</c>, <c>S3</c>, <c>AzureBlob</c>); null: the default storage's.</summary>
    public string? StorageProvider { get; init; }

    /// <summary>Who transfers (for the audit trail): user, client, session, and whether the bytes were TYPE A.</summary>
    public TransferParty? Party { get; init; }

    /// <summary>What the upload's checks found, filled in by its work (its event carries the scan).</summary>
    public Checks.UploadFindings? Findings { get; init; }

    /// <summary>The user's bandwidth limit for this direction, shared with the user's other sessions.</summary>
    public Users.TokenBucket? Throttle { get; init; }

    public void Dispose()
    {
        Channel.Dispose();
        Opened?.Dispose();
    }
}

/// <summary>Who a transfer is for, as the audit trail records it.</summary>
internal sealed record TransferParty(string User, bool Anonymous, string ClientAddress, string SessionId, bool Ascii);

/// <summary>A running transfer: how far it got, and how to cut it short.</summary>
internal sealed class Transfer(TransferJob job) : IDisposable
{
    private readonly CancellationTokenSource _cts = new();

    public TransferJob Job => job;

    public CancellationToken Token => _cts.Token;

    /// <summary>The open data connection; null until it opens.</summary>
    public DataConnectionStream? Data { get; set; }

    public long Bytes => Data?.Bytes ?? 0;

    /// <summary>Why the transfer was cut short from outside (ABOR, timeout, control connection lost), if it was.</summary>
    public TransferFailure? CutShort { get; private set; }

    public Task Completion { get; set; } = Task.CompletedTask;

    public void Cancel(TransferFailure reason)
    {
        CutShort ??= reason;
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

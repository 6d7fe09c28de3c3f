using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Transfers;

/// <summary>How a transfer ended: its final reply, and the typed reason when it did not complete.</summary>
/// <param name="Failure">why it did not complete; null: it did.</param>
/// <param name="Code">the final reply's code.</param>
/// <param name="Text">the final reply's text.</param>
/// <param name="StorageError">the storage's error, when the storage refused or failed.</param>
/// <param name="Detail">what the failure said (an exception's message, the storage error kind).</param>
internal readonly record struct TransferOutcome(TransferFailure? Failure, int Code, string Text, StorageErrorKind? StorageError = null, string? Detail = null)
{
    public static TransferOutcome Completed(string text) => new(null, ReplyCodes.ClosingData, text);

    public static TransferOutcome Failed(TransferFailure failure, int code, string text, string? detail = null) => new(failure, code, text, null, detail);

    /// <summary>The storage refused or failed: the reply is <see cref="ReplyMapper"/>'s for <paramref name="kind"/>.</summary>
    public static TransferOutcome StorageFailed(StorageErrorKind kind)
    {
        var (code, text) = ReplyMapper.Map(kind);
        return new(TransferFailure.StorageFailed, code, text, kind, kind.ToString());
    }

    /// <summary>
    /// The value of <c>ftp.transfer.result</c> and <c>error.type</c>: <c>completed</c>, the storage error kind
    /// (which says more than StorageFailed), or the failure's name.
    /// </summary>
    public string Result => Failure is not { } failure ? "completed" : StorageError?.ToString() ?? failure.ToString();

    /// <summary>A failure an operator must look at (the store failing, a bug); not one a client caused or ended.</summary>
    public bool NeedsOperator =>
        Failure is TransferFailure.LocalError || (Failure is TransferFailure.StorageFailed && !(StorageError is { } kind && Log.IsClientCondition(kind)));
}

/// <summary>
/// One finished transfer, as every sink sees it: the metrics, its span, the log, the audit trail, the events and
/// the per-user metrics each take what they need from this one value (<see cref="TransferRecorder"/>).
/// </summary>
internal sealed record TransferReport(
    string Verb,
    TransferDirection Direction,
    UserPath Path,
    StoragePath StoragePath,
    string StorageTarget,
    string StorageProvider,
    TransferParty? Party,
    TransferOutcome Outcome,
    long Bytes,
    TimeSpan Elapsed,
    DateTimeOffset Finished)
{
    /// <summary>Cut short from outside (ABOR, a timeout, the control connection lost).</summary>
    public bool CutShort { get; init; }

    /// <summary>What an upload's checks found (the scan); null without checks.</summary>
    public Checks.UploadFindings? Findings { get; init; }

    /// <summary>The trace of the transfer's span, for the audit trail.</summary>
    public string? TraceId { get; init; }

    public bool Completed => Outcome.Failure is null;

    /// <summary>upload, download or listing: the value of <c>ftp.transfer.direction</c>.</summary>
    public string DirectionName => Names.Of(Direction);

    /// <summary>The value of <c>ftp.transfer.result</c>.</summary>
    public string Result => Outcome.Result;

    /// <summary>What a log line, an audit record or an event says of a failure; null when it completed.</summary>
    public string? Reason => Completed ? null : Outcome.Detail ?? Outcome.Result;

    internal static class Names
    {
        public static string Of(TransferDirection direction) => direction switch
        {
            TransferDirection.Upload => "upload",
            TransferDirection.Download => "download",
            _ => "listing",
        };
    }
}

using System.Diagnostics;
using FtpGateway.Ftp.Audit;
using FtpGateway.Ftp.Events;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Transfers;

/// <summary>
/// Hands each finished transfer's <see cref="TransferReport"/> to its sinks: the metrics (and per-user metrics),
/// the transfer's span, the log, and — for uploads and downloads — the audit trail and the events.
/// </summary>
internal sealed class TransferRecorder(FtpServerContext server, ILogger logger)
{
    public void Record(TransferReport report, Activity? activity)
    {
        var ignored = server.Events.Ignores(report.Path.Value); // a device's marker file: stored and audited, not counted
        server.Telemetry.RecordTransfer(report, countForUser: !ignored);
        Tag(activity, report);
        WriteLog(report);
        if (report.Direction != TransferDirection.Listing && report.Party is { } party)
        {
            server.Audit.Record(AuditRecord.Of(report, party));
            Publish(report, party);
            if (report is { Direction: TransferDirection.Upload, Completed: true } && !ignored)
            {
                server.UserRecords.Uploaded(party.User, report.Bytes);
            }
        }
    }

    private static void Tag(Activity? activity, TransferReport report)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("ftp.transfer.bytes", report.Bytes);
        activity.SetTag("ftp.transfer.result", report.Result);
        activity.SetTag("ftp.transfer.aborted", report.CutShort);
        activity.SetTag("ftp.reply_code", report.Outcome.Code);
        if (!report.Completed)
        {
            activity.SetStatus(ActivityStatusCode.Error);
            activity.SetTag("error.type", report.Result);
        }
    }

    /// <summary>Completed: Information; failed for a reason an operator must see: Warning; ended or caused by the client: Information.</summary>
    private void WriteLog(TransferReport report)
    {
        var path = report.StoragePath.Value;
        if (report.Completed)
        {
            Log.TransferCompleted(logger, report.Verb, path, report.Bytes, (long)report.Elapsed.TotalMilliseconds);
        }
        else if (report.Outcome.NeedsOperator)
        {
            Log.TransferFailed(logger, report.Verb, path, report.Bytes, report.Reason!);
        }
        else
        {
            Log.TransferIncomplete(logger, report.Verb, path, report.Bytes, report.Reason!);
        }
    }

    /// <summary>
    /// upload.completed exactly once per committed upload (a 226: the storage committed it), upload.failed for one
    /// that did not commit, download.completed for a whole download.
    /// </summary>
    private void Publish(TransferReport report, TransferParty party)
    {
        var type = (report.Direction, report.Completed) switch
        {
            (TransferDirection.Upload, true) => EventTypes.UploadCompleted,
            (TransferDirection.Upload, false) => EventTypes.UploadFailed,
            (TransferDirection.Download, true) => EventTypes.DownloadCompleted,
            _ => null,
        };
        if (type is null || !server.Events.Enabled)
        {
            return;
        }

        var data = new TransferEventData(
            party.User, party.ClientAddress, party.SessionId, report.Path.Value, report.StorageTarget, report.StorageProvider,
            server.Locate(report.StorageTarget, report.StoragePath), report.Bytes, Math.Round(report.Elapsed.TotalSeconds, 3))
        {
            Reason = report.Outcome.Failure switch
            {
                null => null,
                TransferFailure.Aborted => "aborted",
                TransferFailure.EndedByOperator => "ended by operator",
                TransferFailure.Refused => report.Outcome.Detail,
                TransferFailure.ControlConnectionLost or TransferFailure.DataConnectionBroken or TransferFailure.DataConnectionNotOpened => "connection lost",
                TransferFailure.StorageFailed => "store failure",
                TransferFailure.SizeLimit => "size limit",
                TransferFailure.Timeout or TransferFailure.TooSlow => "timeout",
                _ => "local error",
            },
            Detail = report.Completed ? null : report.Result,
            Scan = report.Findings?.Scan,
            Sha256 = report.Completed ? report.Findings?.Sha256 : null,
        };
        server.Events.Publish(type, report.Path.Value, party.User, data);
    }
}

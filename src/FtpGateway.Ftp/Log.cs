using System.Net;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp;

/// <summary>Untrusted text (verbs, paths, user names) made safe for one log line.</summary>
internal static class LogText
{
    public static string Sanitize(string text)
    {
        var clean = new System.Text.StringBuilder(Math.Min(text.Length, 256));
        foreach (var c in text.AsSpan(0, Math.Min(text.Length, 256)))
        {
            clean.Append(char.IsControl(c) ? '?' : c);
        }

        return clean.ToString();
    }
}

/// <summary>
/// Source-generated log methods of the FTP layer. The registry of log event ids, one range per part of the
/// gateway (a test checks that no id means two events):
/// 1xx the FTP server and users (here; 15x the shared state, FtpGateway.State.Redis), 2xx sessions (here), 3xx transfers (here),
/// 4xx storage providers (FileSystemLog 400-409, ObjectListing 410-419),
/// 6xx webhooks (WebhookQueue 601-), 65x the audit trail (AuditTrail 651-),
/// 7xx the executable (StorageStartupCheck 701-, StorageHealth 710-).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "FTP server listening on {EndPoint} (passive ports {PassivePorts}, public address {PublicAddress}, storage {Storage})")]
    public static partial void Listening(ILogger logger, EndPoint endPoint, string passivePorts, string publicAddress, string storage);

    [LoggerMessage(101, LogLevel.Warning, "Refused connection from {ClientAddress}: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, IPAddress clientAddress, string reason);

    [LoggerMessage(106, LogLevel.Information, "Implicit FTPS listening on {EndPoint}")]
    public static partial void ListeningImplicitTls(ILogger logger, EndPoint endPoint);

    [LoggerMessage(107, LogLevel.Debug, "Refused connection from {ClientAddress}: {Reason}")]
    public static partial void ConnectionRefusedQuietly(ILogger logger, IPAddress clientAddress, string reason);

    [LoggerMessage(108, LogLevel.Warning, "Closed connection from proxy {ProxyAddress}: {Reason}")]
    public static partial void ProxyHeaderRefused(ILogger logger, IPAddress proxyAddress, string reason);

    // The two ban lines are a stable format for fail2ban-style tools: "FtpGateway ban: <address> ..." / "FtpGateway unban: <address>".
    [LoggerMessage(110, LogLevel.Warning, "FtpGateway ban: {ClientAddress} for {DurationSeconds} s after {Failures} failed logins within {WindowSeconds} s (ban {BanNumber})")]
    public static partial void Banned(ILogger logger, string clientAddress, long durationSeconds, int failures, long windowSeconds, int banNumber);

    [LoggerMessage(111, LogLevel.Information, "FtpGateway unban: {ClientAddress}")]
    public static partial void Unbanned(ILogger logger, string clientAddress);

    [LoggerMessage(112, LogLevel.Information, "FtpGateway ban: {ClientAddress} for {DurationSeconds} s by another gateway of the fleet (ban {BanNumber})")]
    public static partial void BannedByFleet(ILogger logger, string clientAddress, long durationSeconds, int banNumber);

    [LoggerMessage(114, LogLevel.Information, "Session {SessionId} ended by the operator (at once: {Now})")]
    public static partial void SessionEndedByOperator(ILogger logger, string sessionId, bool now);

    [LoggerMessage(115, LogLevel.Information, "FTPS certificate renewed: {Subject} ({Thumbprint}), valid until {NotAfter:u}; new connections get it")]
    public static partial void CertificateRenewed(ILogger logger, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(116, LogLevel.Error, "FTPS certificate {File} not renewed, the previous one stays in force: {Reason}")]
    public static partial void CertificateNotRenewed(ILogger logger, string file, string reason);

    [LoggerMessage(117, LogLevel.Warning, "Upload {Name} rejected by the content scanner: {Signature}; nothing stored")]
    public static partial void UploadInfected(ILogger logger, string name, string signature);

    [LoggerMessage(118, LogLevel.Warning, "The content scanner could not check {Name}: {Reason}")]
    public static partial void ScannerUnavailable(ILogger logger, string name, string reason);

    [LoggerMessage(129, LogLevel.Warning, "Guardrail {Reason} of {User} refused an upload: {Text}")]
    public static partial void Guarded(ILogger logger, string reason, string user, string text);

    [LoggerMessage(119, LogLevel.Warning, "Infected upload {Name} kept in quarantine at {Location}")]
    public static partial void Quarantined(ILogger logger, string name, string location);

    [LoggerMessage(128, LogLevel.Warning, "Infected upload {Name} is not kept in quarantine: its copy was not whole (Scanning:QuarantineSpoolBytes spent, the temporary directory full, or beyond the scanner's limit)")]
    public static partial void QuarantineIncomplete(ILogger logger, string name);

    [LoggerMessage(127, LogLevel.Error, "Infected upload {Name} could not be kept in quarantine (it is refused and stored nowhere)")]
    public static partial void QuarantineFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(113, LogLevel.Debug, "Shared state unavailable for {Operation}, this gateway decides alone: {Reason}")]
    public static partial void FleetStateUnavailable(ILogger logger, string operation, string reason);

    [LoggerMessage(120, LogLevel.Information, "Users file {File} loaded: {Users} users")]
    public static partial void UsersReloaded(ILogger logger, string file, int users);

    [LoggerMessage(126, LogLevel.Warning, "No users are defined (configuration, users file {File}) and anonymous logins are off: nobody can log in until the file has users")]
    public static partial void NoUsers(ILogger logger, string file);

    [LoggerMessage(121, LogLevel.Error, "Users file {File} not reloaded, the previous users stay in force: {Reason}")]
    public static partial void UsersReloadFailed(ILogger logger, string file, string reason);

    [LoggerMessage(122, LogLevel.Information, "Closing a session of user {User}: removed, disabled or changed in the users file")]
    public static partial void UserSessionsClosing(ILogger logger, string user);

    [LoggerMessage(123, LogLevel.Warning, "Authentication hook could not decide on user {User}: {Reason}")]
    public static partial void AuthHookFailed(ILogger logger, string user, string reason);

    [LoggerMessage(124, LogLevel.Error, "User {User} names storage target '{Target}', which is not configured")]
    public static partial void UnknownStorageTarget(ILogger logger, string user, string target);

    [LoggerMessage(125, LogLevel.Warning, "Ftp:PublicHost {Host} did not resolve ({Reason}); PASV keeps the last address it had, or the connection's own")]
    public static partial void PublicHostUnresolved(ILogger logger, string host, string reason);

    [LoggerMessage(102, LogLevel.Error, "Accept loop failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(104, LogLevel.Information, "Draining: {Sessions} sessions; running transfers may finish within {Seconds} s")]
    public static partial void Draining(ILogger logger, int sessions, double seconds);

    [LoggerMessage(105, LogLevel.Warning, "Drain timeout: cutting off {Sessions} sessions; their transfers commit nothing")]
    public static partial void DrainTimedOut(ILogger logger, int sessions);

    [LoggerMessage(103, LogLevel.Information, "FTP server stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(200, LogLevel.Information, "Session started from {ClientAddress}:{ClientPort}")]
    public static partial void SessionStarted(ILogger logger, IPAddress clientAddress, int clientPort);

    [LoggerMessage(201, LogLevel.Information, "Session ended: {Reason}")]
    public static partial void SessionEnded(ILogger logger, string reason);

    [LoggerMessage(202, LogLevel.Debug, "<- {Verb} {Argument}")]
    public static partial void Command(ILogger logger, string verb, string argument);

    [LoggerMessage(203, LogLevel.Debug, "-> {Code} {Text}")]
    public static partial void Reply(ILogger logger, int code, string text);

    [LoggerMessage(204, LogLevel.Information, "User {User} logged in")]
    public static partial void LoggedIn(ILogger logger, string user);

    [LoggerMessage(205, LogLevel.Warning, "Failed login for user {User}")]
    public static partial void LoginFailed(ILogger logger, string user);

    [LoggerMessage(206, LogLevel.Warning, "Storage error on {Verb}: {Kind}")]
    private static partial void StorageFailure(ILogger logger, Exception exception, string verb, Storage.StorageErrorKind kind);

    [LoggerMessage(212, LogLevel.Information, "{Verb} refused: {Kind}")]
    private static partial void StorageRefusal(ILogger logger, string verb, Storage.StorageErrorKind kind);

    /// <summary>
    /// A storage failure: what a client caused (an existing directory, a missing file, a name not allowed) is an
    /// Information line without a stack trace; what an operator must look at (the store unavailable, full, or
    /// refusing the gateway's credentials) stays a Warning with the exception.
    /// </summary>
    public static void StorageError(ILogger logger, Storage.StorageException exception, string verb, Storage.StorageErrorKind kind)
    {
        if (IsClientCondition(kind))
        {
            StorageRefusal(logger, verb, kind);
        }
        else
        {
            StorageFailure(logger, exception, verb, kind);
        }
    }

    internal static bool IsClientCondition(Storage.StorageErrorKind kind) => kind is Storage.StorageErrorKind.NotFound
        or Storage.StorageErrorKind.AlreadyExists or Storage.StorageErrorKind.NotADirectory or Storage.StorageErrorKind.IsADirectory
        or Storage.StorageErrorKind.DirectoryNotEmpty or Storage.StorageErrorKind.InvalidName or Storage.StorageErrorKind.InvalidRange
        or Storage.StorageErrorKind.LimitExceeded or Storage.StorageErrorKind.NotSupported or Storage.StorageErrorKind.Conflict
        or Storage.StorageErrorKind.Retained;

    [LoggerMessage(207, LogLevel.Error, "Unexpected error on {Verb}")]
    public static partial void UnexpectedError(ILogger logger, Exception exception, string verb);

    [LoggerMessage(208, LogLevel.Warning, "TLS handshake failed")]
    public static partial void TlsFailed(ILogger logger, Exception exception);

    [LoggerMessage(210, LogLevel.Warning, "Discarded {Bytes} bytes sent in clear text behind AUTH TLS; only commands sent inside TLS are run")]
    public static partial void ClearTextDiscarded(ILogger logger, int bytes);

    [LoggerMessage(211, LogLevel.Warning, "Closed session: a PROXY protocol header arrived from an address that is not a trusted proxy")]
    public static partial void UntrustedProxyHeader(ILogger logger);

    [LoggerMessage(209, LogLevel.Warning, "Refused data connection from {Address}: not the control connection's peer")]
    public static partial void DataPeerRefused(ILogger logger, string address);

    [LoggerMessage(300, LogLevel.Information, "{Verb} {Path} completed: {Bytes} bytes in {Milliseconds} ms")]
    public static partial void TransferCompleted(ILogger logger, string verb, string path, long bytes, long milliseconds);

    [LoggerMessage(301, LogLevel.Warning, "{Verb} {Path} failed after {Bytes} bytes: {Reason}")]
    public static partial void TransferFailed(ILogger logger, string verb, string path, long bytes, string reason);

    /// <summary>A transfer the client ended or caused to fail (aborted, disconnected, too slow, over its limit, a missing directory): routine, not an operator's problem.</summary>
    [LoggerMessage(302, LogLevel.Information, "{Verb} {Path} did not complete after {Bytes} bytes: {Reason}")]
    public static partial void TransferIncomplete(ILogger logger, string verb, string path, long bytes, string reason);
}

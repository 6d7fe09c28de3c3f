using Microsoft.Extensions.Logging;

namespace FtpGateway.State.Redis;

/// <summary>Log events of the shared state (ids 150-159 of the gateway's registry, FtpGateway.Ftp's Log.cs).</summary>
internal static partial class Log
{
    [LoggerMessage(150, LogLevel.Information, "Shared state: connected to Redis {EndPoints} (key prefix {KeyPrefix}); bans, session limits and the session registry are fleet-wide")]
    public static partial void Connected(ILogger logger, string endPoints, string keyPrefix);

    [LoggerMessage(151, LogLevel.Warning, "Shared state: Redis {EndPoints} is unreachable; this gateway counts failed logins, bans and session limits alone until it is back")]
    public static partial void Unavailable(ILogger logger, string endPoints);

    [LoggerMessage(152, LogLevel.Information, "Shared state: Redis {EndPoints} is back; bans made meanwhile are shared, leases and sessions written again")]
    public static partial void Restored(ILogger logger, string endPoints);

    [LoggerMessage(153, LogLevel.Debug, "Shared state: a write failed ({Operation}): {Reason}")]
    public static partial void WriteFailed(ILogger logger, string operation, string reason);

    [LoggerMessage(154, LogLevel.Debug, "Shared state: a message that is not understood was ignored: {Message}")]
    public static partial void BadMessage(ILogger logger, string message);

    [LoggerMessage(155, LogLevel.Error, "Shared state: a handler of a message failed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);
}

using StackExchange.Redis;

namespace FtpGateway.State.Redis;

/// <summary>
/// Configuration section <c>State:Redis</c>: the Redis the gateways of a fleet share (bans, failed-login counts,
/// session leases, the session registry, messages between gateways). Not set: this gateway is on its own.
/// </summary>
public sealed class RedisStateOptions
{
    public const string SectionName = "State:Redis";

    /// <summary>A StackExchange.Redis configuration string: <c>host:port,password=…,ssl=true</c>.</summary>
    public string? Configuration { get; set; }

    /// <summary>Prefix of every key and channel (several fleets can share one Redis). A hash tag such as <c>{ftpgateway}:</c> keeps every key in one slot of a Redis Cluster.</summary>
    public string KeyPrefix { get; set; } = "ftpgateway:";

    /// <summary>True when <see cref="Configuration"/> is set.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Configuration);

    /// <summary>
    /// The client's options: the operator's string, with what a gateway needs where the string says nothing — it
    /// starts while Redis is down (abortConnect=false), fails fast instead of queueing while disconnected, and gives
    /// up on an answer after a second (connectTimeout, syncTimeout, asyncTimeout), so that a slow Redis never holds
    /// a login for long. Throws <see cref="ArgumentException"/> naming the key when the string is not valid.
    /// </summary>
    internal ConfigurationOptions Parse(string gateway)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(Configuration!);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"State:Redis:Configuration is not a valid Redis configuration string: {ex.Message}", ex);
        }

        if (options.EndPoints.Count == 0)
        {
            throw new ArgumentException("State:Redis:Configuration names no Redis end point (host:port)");
        }

        var given = Configuration!.ToLowerInvariant();
        if (!given.Contains("abortconnect=", StringComparison.Ordinal))
        {
            options.AbortOnConnectFail = false;
        }

        if (!given.Contains("connecttimeout=", StringComparison.Ordinal))
        {
            options.ConnectTimeout = 1000;
        }

        if (!given.Contains("synctimeout=", StringComparison.Ordinal))
        {
            options.SyncTimeout = 1000;
        }

        if (!given.Contains("asynctimeout=", StringComparison.Ordinal))
        {
            options.AsyncTimeout = 1000;
        }

        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy ??= new ExponentialRetry(500, 5000);
        options.ClientName ??= "ftpgateway-" + gateway;
        return options;
    }

    /// <summary>Every invalid key of the section, named.</summary>
    internal IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            yield break;
        }

        string? error = null;
        try
        {
            Parse("check");
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            yield return error;
        }

        if (string.IsNullOrWhiteSpace(KeyPrefix) || KeyPrefix.Any(char.IsWhiteSpace))
        {
            yield return "State:Redis:KeyPrefix must not be empty or contain spaces";
        }
    }
}

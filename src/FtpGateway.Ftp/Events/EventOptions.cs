namespace FtpGateway.Ftp.Events;

/// <summary>Configuration section <c>Events</c>: what happened, told to downstream systems after the fact.</summary>
public sealed class EventOptions : IValidatedOptions
{
    public const string SectionName = "Events";

    public List<WebhookOptions> Webhooks { get; set; } = [];

    /// <summary>How long an event is retried before it is dropped (with an error log and a metric).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A directory where events are kept until delivered, surviving a crash or restart; empty: memory only.</summary>
    public string? SpoolDirectory { get; set; }

    /// <summary>The most the pending events of one webhook may take (spool or memory); beyond it the oldest are dropped.</summary>
    public long MaxSpoolBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Path patterns (<c>**/DVRWorkDirectory</c>) kept out of events and per-user upload counts; still stored and audited.</summary>
    public List<string> IgnorePaths { get; set; } = [];

    public IEnumerable<string> Validate()
    {
        for (var i = 0; i < Webhooks.Count; i++)
        {
            var hook = Webhooks[i];
            if (!Uri.TryCreate(hook.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"Events:Webhooks:{i}:Url '{hook.Url}' must be an absolute http:// or https:// URL";
            }

            foreach (var type in hook.Types.Where(t => !EventTypes.All.Contains(t)))
            {
                yield return $"Events:Webhooks:{i}:Types: '{type}' is not an event type ({string.Join(", ", EventTypes.All)})";
            }
        }

        var patternErrors = new List<string>();
        PathPatterns.Parse(IgnorePaths, "Events:IgnorePaths", patternErrors);
        foreach (var error in patternErrors)
        {
            yield return error;
        }

        if (MaxAge <= TimeSpan.Zero || MaxSpoolBytes < 1024)
        {
            yield return "Events:MaxAge must be positive and Events:MaxSpoolBytes at least 1024";
        }
    }
}

/// <summary>One receiver of events: <c>Events:Webhooks:N</c>.</summary>
public sealed class WebhookOptions
{
    public string Url { get; set; } = string.Empty;

    /// <summary>When set, each body is signed: <c>X-FtpGateway-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>.</summary>
    public string? Secret { get; set; }

    /// <summary>The event types this receiver gets; empty: all.</summary>
    public List<string> Types { get; set; } = [];
}

/// <summary>The CloudEvents <c>type</c> values the gateway sends.</summary>
public static class EventTypes
{
    public const string UploadCompleted = "ftpgateway.upload.completed";
    public const string UploadFailed = "ftpgateway.upload.failed";
    public const string DownloadCompleted = "ftpgateway.download.completed";
    public const string FileDeleted = "ftpgateway.file.deleted";
    public const string FileRenamed = "ftpgateway.file.renamed";
    public const string DirectoryCreated = "ftpgateway.directory.created";
    public const string DirectoryDeleted = "ftpgateway.directory.deleted";
    public const string AddressBanned = "ftpgateway.address.banned";
    public const string UploadRejected = "ftpgateway.upload.rejected";

    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        UploadCompleted, UploadFailed, DownloadCompleted, FileDeleted, FileRenamed, DirectoryCreated, DirectoryDeleted, AddressBanned, UploadRejected,
    };
}

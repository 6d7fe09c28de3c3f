namespace FtpGateway.Ftp.Telemetry;

/// <summary>Configuration section <c>Telemetry</c>.</summary>
public sealed class TelemetryOptions : IValidatedOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>Spans and metrics on standard output too (local debugging).</summary>
    public bool Console { get; set; }

    /// <summary>
    /// Uploads and the time of the last upload, per user (a device falling silent). The series are labelled with the
    /// user's name, and /metrics has no authentication: bind the management endpoint where only monitoring reaches it.
    /// </summary>
    public bool PerUserMetrics { get; set; }

    /// <summary>The most users with per-user series at once; beyond it the user whose last upload is oldest makes room.</summary>
    public int PerUserMetricsMaxUsers { get; set; } = 10_000;

    /// <summary>A user with no upload for this long loses its series (its silence alert has fired long before).</summary>
    public TimeSpan PerUserMetricsRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The start-up checks, naming the key.</summary>
    public IEnumerable<string> Validate()
    {
        if (PerUserMetricsMaxUsers < 1)
        {
            yield return "Telemetry:PerUserMetricsMaxUsers must be at least 1";
        }

        if (PerUserMetricsRetention < TimeSpan.FromHours(1))
        {
            yield return "Telemetry:PerUserMetricsRetention must be at least 01:00:00";
        }
    }
}

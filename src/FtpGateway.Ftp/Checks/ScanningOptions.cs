namespace FtpGateway.Ftp.Checks;

/// <summary>What happens to an upload when the scanner cannot say (down, slow, or the file beyond its limit).</summary>
internal enum ScanFallback
{
    /// <summary>The upload is refused (451 for a scanner that does not answer, 550 for a file beyond its limit); nothing is stored.</summary>
    Reject,

    /// <summary>The upload is stored, and its event says it was not scanned and why.</summary>
    Accept,
}

/// <summary>
/// Configuration section <c>Scanning</c>: malware scanning before commit. Every upload streams to clamd
/// (<c>INSTREAM</c>) while it is stored; the commit waits for the verdict.
/// </summary>
internal sealed class ScanningOptions
{
    public const string SectionName = "Scanning";

    /// <summary><c>Scanning:Clamd</c>.</summary>
    public ClamdOptions Clamd { get; set; } = new();

    /// <summary>How long the commit waits for the verdict after the last byte (and for clamd to take the connection).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A scanner that is down or too slow: <see cref="ScanFallback.Reject"/> (451, try again) or <see cref="ScanFallback.Accept"/>.</summary>
    public ScanFallback OnError { get; set; } = ScanFallback.Reject;

    /// <summary>A file larger than clamd's stream limit (its StreamMaxLength): <see cref="ScanFallback.Reject"/> (550) or <see cref="ScanFallback.Accept"/>.</summary>
    public ScanFallback OverLimit { get; set; } = ScanFallback.Reject;

    /// <summary>
    /// A storage target (<c>default</c> or a name of <c>Storage:Targets</c>) where infected uploads are kept instead
    /// of the user's target; empty: they are kept nowhere.
    /// </summary>
    public string? QuarantineStorage { get; set; }

    /// <summary>What all quarantine spools may hold at once in the temporary directory (default 128 MiB).</summary>
    public long QuarantineSpoolBytes { get; set; } = 128L * 1024 * 1024;

    internal bool Enabled => !string.IsNullOrWhiteSpace(Clamd.Address);

    internal bool Quarantines => Enabled && !string.IsNullOrWhiteSpace(QuarantineStorage);

    /// <summary>Every invalid key of the section, named.</summary>
    internal IEnumerable<string> Validate()
    {
        if (Enabled && ClamdScanner.ParseAddress(Clamd.Address!) is null)
        {
            yield return $"Scanning:Clamd:Address '{Clamd.Address}' must be tcp://host:port or unix:/path/to/clamd.sock";
        }

        if (!Enabled && !string.IsNullOrWhiteSpace(QuarantineStorage))
        {
            yield return "Scanning:QuarantineStorage needs Scanning:Clamd:Address (only a scanner finds what to quarantine)";
        }

        if (QuarantineSpoolBytes < 0)
        {
            yield return "Scanning:QuarantineSpoolBytes must not be negative";
        }

        if (Timeout <= TimeSpan.Zero)
        {
            yield return "Scanning:Timeout must be positive";
        }
    }
}

/// <summary><c>Scanning:Clamd</c>.</summary>
internal sealed class ClamdOptions
{
    /// <summary>clamd's socket: <c>tcp://127.0.0.1:3310</c> or <c>unix:/run/clamav/clamd.ctl</c>; empty: no scanning.</summary>
    public string? Address { get; set; }
}

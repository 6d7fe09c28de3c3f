namespace FtpGateway.Storage.S3;

/// <summary>How requests are checksummed (<c>Storage:S3:ChecksumMode</c>).</summary>
public enum S3ChecksumMode
{
    /// <summary>The SDK's flexible checksums (CRC32 on every PutObject and UploadPart): AWS S3, current MinIO.</summary>
    WhenSupported,

    /// <summary>
    /// Checksums only where the API requires them, for stores that answer the flexible ones with
    /// 400 XAmzContentSHA256Mismatch (Ceph radosgw, older MinIO); every part then carries Content-MD5 instead.
    /// </summary>
    WhenRequired,
}

/// <summary>Where listings take file times from (<c>Storage:S3:ListingModificationTime</c>).</summary>
public enum S3ListingTime
{
    /// <summary>
    /// The time MFMT stored in the object's metadata. Every object MFMT stamps is written as a multipart copy,
    /// whose ETag shows it in a listing; only such objects are looked at (a HEAD, once per version).
    /// </summary>
    Metadata,

    /// <summary>S3's own upload time (one request per 1,000 entries).</summary>
    LastModified,

    /// <summary>
    /// The time stored in any listed file's metadata, with a HEAD per file (16 at a time) the first time each
    /// version is listed: for buckets where versions before 2026-12 stamped objects without a multipart ETag.
    /// </summary>
    MetadataEveryFile,
}

/// <summary>The S3 Object Lock retention mode every upload carries (<c>Storage:S3:ObjectLock:Mode</c>).</summary>
public enum S3ObjectLockMode
{
    /// <summary>No retention is set by the gateway.</summary>
    None,

    /// <summary>Users with s3:BypassGovernanceRetention can still remove a version; no one else.</summary>
    Governance,

    /// <summary>No one, not even the account's root user, can remove a version before its retention ends.</summary>
    Compliance,
}

/// <summary>Configuration section <c>Storage:S3:ObjectLock</c>: write-once retention of every upload.</summary>
public sealed class S3ObjectLockOptions
{
    /// <summary>The retention mode every upload carries; None: the gateway sets none.</summary>
    public S3ObjectLockMode Mode { get; set; } = S3ObjectLockMode.None;

    /// <summary>How long each upload is retained from its commit.</summary>
    public TimeSpan RetainFor { get; set; }
}

/// <summary>Configuration section <c>Storage:S3</c>.</summary>
public sealed class S3StorageOptions
{
    public const string SectionName = "Storage:S3";
    public const int MinimumPartSizeMiB = 5;

    /// <summary>The bucket (required).</summary>
    public string Bucket { get; set; } = string.Empty;

    /// <summary>Key prefix for everything the gateway writes, e.g. "ftp/" (optional).</summary>
    public string? Prefix { get; set; }

    /// <summary>AWS region; with <see cref="ServiceUrl"/> it is the signing region. Default us-east-1.</summary>
    public string? Region { get; set; }

    /// <summary>Endpoint of an S3-compatible store (MinIO, Ceph, ...); empty for AWS.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Path-style addressing (bucket in the path), needed by most S3-compatible stores.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Static credentials; when empty the SDK's default chain is used (environment, profile, web identity/IRSA, instance role).</summary>
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Multipart part size in MiB (≥ 5). Memory per upload is at most PartSizeMiB × (MaxConcurrentParts + 1).</summary>
    public int PartSizeMiB { get; set; } = 8;

    /// <summary>Parts uploaded in parallel per transfer.</summary>
    public int MaxConcurrentParts { get; set; } = 4;

    /// <summary>Storage class for new objects (STANDARD, STANDARD_IA, INTELLIGENT_TIERING, ...); empty for the bucket's default.</summary>
    public string? StorageClass { get; set; }

    /// <summary>Server-side encryption: empty, "AES256" (SSE-S3) or "aws:kms" (SSE-KMS).</summary>
    public string? ServerSideEncryption { get; set; }

    /// <summary>KMS key id for SSE-KMS (empty: the account's default key).</summary>
    public string? KmsKeyId { get; set; }

    /// <summary>How every part's integrity is checked by the store: the SDK's CRC32, or Content-MD5.</summary>
    public S3ChecksumMode ChecksumMode { get; set; } = S3ChecksumMode.WhenSupported;

    /// <summary>Where listings take modification times from.</summary>
    public S3ListingTime ListingModificationTime { get; set; } = S3ListingTime.Metadata;

    /// <summary>Most objects a directory rename may copy; larger renames are refused with 550.</summary>
    public int MaxRenameObjects { get; set; } = 10_000;

    /// <summary>How long what the gateway saw of a directory spares an upload its directory checks (zero: always check).</summary>
    public TimeSpan DirectoryCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Write-once retention of every upload (the bucket must have Object Lock enabled).</summary>
    public S3ObjectLockOptions ObjectLock { get; set; } = new();

    internal long PartSize => PartSizeMiB * 1024L * 1024;

    internal string KeyPrefix => string.IsNullOrWhiteSpace(Prefix) ? string.Empty : Prefix.Trim('/') + "/";

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            errors.Add("Storage:S3:Bucket is required");
        }

        if (PartSizeMiB < MinimumPartSizeMiB || PartSizeMiB > 5 * 1024)
        {
            errors.Add("Storage:S3:PartSizeMiB must be between 5 and 5120 (S3's part size limits)");
        }

        if (MaxConcurrentParts is < 1 or > 64)
        {
            errors.Add("Storage:S3:MaxConcurrentParts must be between 1 and 64");
        }

        if (!Enum.IsDefined(ChecksumMode))
        {
            errors.Add("Storage:S3:ChecksumMode must be WhenSupported or WhenRequired");
        }

        if (!Enum.IsDefined(ListingModificationTime))
        {
            errors.Add("Storage:S3:ListingModificationTime must be Metadata, LastModified or MetadataEveryFile");
        }

        if (DirectoryCacheDuration < TimeSpan.Zero)
        {
            errors.Add("Storage:S3:DirectoryCacheDuration must not be negative");
        }

        if (ServerSideEncryption is { Length: > 0 } sse && sse is not ("AES256" or "aws:kms"))
        {
            errors.Add("Storage:S3:ServerSideEncryption must be empty, AES256 or aws:kms");
        }

        if (string.IsNullOrEmpty(AccessKey) != string.IsNullOrEmpty(SecretKey))
        {
            errors.Add("Storage:S3:AccessKey and Storage:S3:SecretKey go together");
        }

        if (ServiceUrl is { Length: > 0 } url && !Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            errors.Add($"Storage:S3:ServiceUrl '{url}' is not an absolute URL");
        }

        if (MaxRenameObjects < 1)
        {
            errors.Add("Storage:S3:MaxRenameObjects must be at least 1");
        }

        if (!Enum.IsDefined(ObjectLock.Mode))
        {
            errors.Add("Storage:S3:ObjectLock:Mode must be None, Governance or Compliance");
        }
        else if (ObjectLock.Mode != S3ObjectLockMode.None && (ObjectLock.RetainFor < TimeSpan.FromSeconds(1) || ObjectLock.RetainFor > TimeSpan.FromDays(36_500)))
        {
            errors.Add("Storage:S3:ObjectLock:RetainFor must be set (a duration such as 30.00:00:00, at most 100 years) when Storage:S3:ObjectLock:Mode is set");
        }
        else if (ObjectLock.Mode == S3ObjectLockMode.None && ObjectLock.RetainFor != TimeSpan.Zero)
        {
            errors.Add("Storage:S3:ObjectLock:RetainFor needs Storage:S3:ObjectLock:Mode (Governance or Compliance)");
        }

        return errors;
    }
}

using System.Text.Json.Serialization;

namespace FtpGateway.Ftp.Events;

/// <summary>The <c>data</c> of a transfer's event (upload.completed, upload.failed, download.completed).</summary>
/// <param name="User">who transferred.</param>
/// <param name="ClientAddress">from where.</param>
/// <param name="SessionId">in which session.</param>
/// <param name="Path">the path as the user sees it.</param>
/// <param name="StorageTarget">the storage target (<c>default</c>: the top-level Storage).</param>
/// <param name="StorageProvider">its provider (FileSystem, S3, AzureBlob).</param>
/// <param name="Location">where the object lives (<c>s3://bucket/key</c>, a blob's URL, a file path).</param>
/// <param name="Size">bytes transferred.</param>
/// <param name="DurationSeconds">the transfer's duration, to the millisecond.</param>
internal sealed record TransferEventData(
    string User, string ClientAddress, string SessionId, string Path, string StorageTarget, string StorageProvider, string? Location, long Size, double DurationSeconds)
{
    /// <summary>Why an upload failed: aborted, connection lost, store failure, size limit, timeout, local error.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }

    /// <summary>The failure as logs and traces name it (a storage error kind, or the failure).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }

    /// <summary>With Scanning: "clean", or why the upload was stored unscanned (Scanning:OnError/OverLimit Accept).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Scan { get; init; }

    /// <summary>upload.completed: the whole stored file's SHA-256 (lower-case hex), as kept with it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sha256 { get; init; }
}

/// <summary>The <c>data</c> of ftpgateway.upload.rejected: an upload the content scanner refused (nothing was stored).</summary>
/// <param name="User">who uploaded it.</param>
/// <param name="ClientAddress">from where.</param>
/// <param name="SessionId">in which session.</param>
/// <param name="Path">the path it was to be stored at, as the user sees it.</param>
/// <param name="Name">the file's name.</param>
/// <param name="Signature">what the scanner found.</param>
internal sealed record RejectedUploadEventData(string User, string ClientAddress, string SessionId, string Path, string Name, string Signature)
{
    /// <summary>With Scanning:QuarantineStorage: where the upload was kept instead (a location, or target:path).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Quarantine { get; init; }
}

/// <summary>The <c>data</c> of an event about a path a session changed (file.deleted, file.renamed, directory.created, directory.deleted).</summary>
/// <param name="User">who changed it.</param>
/// <param name="ClientAddress">from where.</param>
/// <param name="SessionId">in which session.</param>
/// <param name="Path">the path (a rename's new one) as the user sees it.</param>
/// <param name="StorageTarget">the storage target.</param>
/// <param name="StorageProvider">its provider.</param>
/// <param name="Location">where it lives in the store.</param>
internal sealed record FileEventData(string User, string ClientAddress, string SessionId, string Path, string StorageTarget, string StorageProvider, string? Location)
{
    /// <summary>A rename's old path.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? From { get; init; }

    /// <summary>A rename's old location.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FromLocation { get; init; }
}

/// <summary>The <c>data</c> of address.banned.</summary>
/// <param name="ClientAddress">the address banned.</param>
/// <param name="DurationSeconds">for how long.</param>
/// <param name="BanNumber">the how-manieth ban of this address in a row (bans grow longer).</param>
internal sealed record BanEventData(string ClientAddress, long DurationSeconds, int BanNumber);

namespace FtpGateway.Storage.ObjectStore;

/// <summary>What an object store says about one object (or blob), from a HEAD or a listing page.</summary>
/// <param name="Key">The full key (or blob name).</param>
/// <param name="Size">Bytes.</param>
/// <param name="LastModified">The store's own write time.</param>
/// <param name="ETag">The store's version tag, for conditional requests.</param>
public sealed record ObjectInfo(string Key, long Size, DateTimeOffset? LastModified, string? ETag)
{
    /// <summary>A directory marker (S3: "dir/" of type application/x-directory; Azure: hdi_isfolder=true).</summary>
    public bool IsDirectoryMarker { get; init; }

    /// <summary>The modification time MFMT stored with the object, if any.</summary>
    public DateTimeOffset? StoredTime { get; init; }

    /// <summary>The object's MD5, where the store knows it (Azure's Content-MD5; an S3 single-part ETag).</summary>
    public byte[]? Md5 { get; init; }

    /// <summary>The SHA-256 the gateway stored with the object when it had it, if any.</summary>
    public byte[]? Sha256 { get; init; }

    /// <summary>The object's user metadata, where a HEAD returned it or a write knows it (null from a listing).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public string? ContentType { get; init; }

    /// <summary>Until when the object is retained (S3 Object Lock), from a HEAD; null when it is not or the store cannot say.</summary>
    public DateTimeOffset? RetainedUntil { get; init; }

    /// <summary>The time clients are shown: the one MFMT stored, else the store's.</summary>
    public DateTimeOffset? Modified => StoredTime ?? LastModified;
}

/// <summary>One page of a listing: the objects, and (with a delimiter) the prefixes that stand for subdirectories.</summary>
public sealed record ObjectListPage(IReadOnlyList<ObjectInfo> Objects, IReadOnlyList<string> Prefixes)
{
    /// <summary>More follows this page.</summary>
    public bool Truncated { get; init; }
}

/// <summary>The precondition of a write, evaluated by the store at the commit.</summary>
public readonly record struct WriteCondition(string? IfMatch, bool IfNoneMatch)
{
    public static WriteCondition None => default;

    /// <summary>Only if nothing exists under the key (STOU).</summary>
    public static WriteCondition NothingThere => new(null, true);

    /// <summary>Only if the object is still the version <paramref name="etag"/> (APPE, REST + STOR).</summary>
    public static WriteCondition StillVersion(string? etag) => new(etag, false);
}

/// <summary>
/// What of an existing object an APPE or REST + STOR keeps without moving it through the gateway: parts the
/// store already holds or copies itself, and the bytes that must be sent again (<see cref="Remainder"/>).
/// </summary>
public sealed record KeptPrefix(IReadOnlyList<KeptPart> Parts, Stream? Remainder)
{
    public static KeptPrefix Nothing { get; } = new([], null);
}

/// <summary>One part of a kept prefix: a byte range of the existing object, or a block it already holds.</summary>
/// <param name="Offset">Where the range starts in the existing object.</param>
/// <param name="Length">Bytes.</param>
public sealed record KeptPart(long Offset, long Length)
{
    /// <summary>The block the store already holds for this range (Azure).</summary>
    public string? BlockId { get; init; }

    /// <summary>The version (ETag) of the object the range is copied from: a copy of a changed object fails.</summary>
    public string? SourceETag { get; init; }
}

/// <summary>The names of the metadata the gateway keeps with an object (S3 spells them with hyphens: "ftpgateway-sha256").</summary>
public static class ObjectMetadata
{
    /// <summary>The whole stored object's SHA-256, lower-case hex, computed while it streamed.</summary>
    public const string Sha256 = "ftpgateway_sha256";

    /// <summary>The digest kept under <see cref="Sha256"/> (or an older name), when it is one.</summary>
    public static byte[]? ReadSha256(string? hex) =>
        hex is { Length: 64 } && hex.All(char.IsAsciiHexDigit) ? Convert.FromHexString(hex) : null;
}

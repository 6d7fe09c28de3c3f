using System.Globalization;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using FtpGateway.Storage.ObjectStore;

namespace FtpGateway.Storage.S3;

/// <summary>
/// One bucket and what every write to it carries: the client, the configured storage class, encryption and KMS
/// key (<see cref="Decorate{T}"/>), the per-request checksum policy, and the start of a multipart upload. The
/// store, the multipart writer and the server-side copier each take this; none calls back into another.
/// </summary>
internal sealed class S3Bucket : IDisposable
{
    internal const string MtimeMetadata = "ftpgw-mtime";
    /// <summary>Where versions before 0.9 kept the SHA-256 of single-request uploads; still read.</summary>
    internal const string LegacySha256Metadata = "ftpgw-sha256";

    private readonly S3StorageOptions _options;
    private readonly S3StorageClass? _storageClass;
    private readonly ServerSideEncryptionMethod? _encryption;
    private readonly string? _kmsKeyId;

    public S3Bucket(IAmazonS3 client, S3StorageOptions options, TimeProvider time)
    {
        Client = client;
        _options = options;
        Time = time;
        _storageClass = string.IsNullOrEmpty(options.StorageClass) ? null : S3StorageClass.FindValue(options.StorageClass);
        _encryption = string.IsNullOrEmpty(options.ServerSideEncryption) ? null : ServerSideEncryptionMethod.FindValue(options.ServerSideEncryption);
        _kmsKeyId = _encryption is null || string.IsNullOrEmpty(options.KmsKeyId) ? null : options.KmsKeyId;
        Lock = new S3ObjectLock(client, options, time);
        Digests = new S3Digests(this, options);
    }

    public IAmazonS3 Client { get; }

    /// <summary>The configured write-once retention (S3 Object Lock), if any.</summary>
    public S3ObjectLock Lock { get; }

    /// <summary>Where a multipart upload's SHA-256 goes: its metadata by a copy onto itself, or a tag.</summary>
    public S3Digests Digests { get; }

    public string Name => _options.Bucket;

    /// <summary>The clock of the abort's time limit.</summary>
    public TimeProvider Time { get; }

    public void Dispose() => Client.Dispose();

    /// <summary>
    /// What every write carries: the configured storage class, server-side encryption and KMS key. The one
    /// place they are set, for every request that creates an object.
    /// </summary>
    public T Decorate<T>(T request)
        where T : AmazonWebServiceRequest
    {
        switch (request)
        {
            case PutObjectRequest put:
                (put.StorageClass, put.ServerSideEncryptionMethod, put.ServerSideEncryptionKeyManagementServiceKeyId) = (_storageClass, _encryption, _kmsKeyId);
                (put.ObjectLockMode, put.ObjectLockRetainUntilDate) = Lock.For(put.Key);
                break;
            case InitiateMultipartUploadRequest init:
                (init.StorageClass, init.ServerSideEncryptionMethod, init.ServerSideEncryptionKeyManagementServiceKeyId) = (_storageClass, _encryption, _kmsKeyId);
                (init.ObjectLockMode, init.ObjectLockRetainUntilDate) = Lock.For(init.Key);
                break;
            case CopyObjectRequest copy:
                (copy.StorageClass, copy.ServerSideEncryptionMethod, copy.ServerSideEncryptionKeyManagementServiceKeyId) = (_storageClass, _encryption, _kmsKeyId);
                (copy.ObjectLockMode, copy.ObjectLockRetainUntilDate) = Lock.For(copy.DestinationKey);
                break;
            default:
                throw new ArgumentException($"{typeof(T).Name} does not create an object", nameof(request));
        }

        return request;
    }

    /// <summary>
    /// Per-request integrity. With ChecksumMode=WhenSupported the SDK adds its CRC32 checksum to every PutObject
    /// and UploadPart, which S3 verifies. Stores that need WhenRequired get Content-MD5, which every S3
    /// implementation verifies (BadDigest) — except over plain HTTP, where SigV4 signs the payload itself (the
    /// SHA-256 of every chunk is in the signature, which the store verifies), and an MD5 would hash every byte a
    /// second time for nothing.
    /// </summary>
    public string? ContentMd5(PartContent content) =>
        _options.ChecksumMode == S3ChecksumMode.WhenRequired && !SignedPayloadSuffices ? Convert.ToBase64String(content.Md5()) : null;

    /// <summary>
    /// WhenRequired over plain HTTP: the SDK signs every payload (SigV4 allows no unsigned payload without TLS),
    /// so neither a Content-MD5 nor the SDK's own MD5 of every upload (compared with the ETag) adds a check.
    /// </summary>
    public bool SignedPayloadSuffices =>
        _options.ChecksumMode == S3ChecksumMode.WhenRequired && _options.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>The object under <paramref name="key"/> with its metadata, or null.</summary>
    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Name, Key = key }, cancellationToken);
            var retainedUntil = await Lock.RetainedUntilAsync(key, head, cancellationToken);
            return new ObjectInfo(key, head.ContentLength, Utc(head.LastModified), head.ETag)
            {
                IsDirectoryMarker = key.EndsWith('/'),
                Metadata = head.Metadata.Keys.ToDictionary(MetadataName, name => head.Metadata[name], StringComparer.OrdinalIgnoreCase),
                ContentType = head.Headers.ContentType,
                StoredTime = StoredTime(head.Metadata[MtimeMetadata]),
                RetainedUntil = retainedUntil,
                Sha256 = ObjectMetadata.ReadSha256(head.Metadata[S3MetadataName(ObjectMetadata.Sha256)]) ?? ObjectMetadata.ReadSha256(head.Metadata[LegacySha256Metadata]),

                // A single-part upload without SSE-KMS has its MD5 as ETag.
                Md5 = ETagsAreMd5s(head.ServerSideEncryptionMethod) ? Md5Of(head.ETag) : null,
            };
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Starts a multipart upload in the configured class and encryption, with these S3 metadata names and values.</summary>
    public async Task<S3MultipartWrite> InitiateMultipartAsync(
        string key, string? contentType, IEnumerable<KeyValuePair<string, string>>? metadata, CancellationToken cancellationToken, string? sourceKey = null)
    {
        var init = Decorate(new InitiateMultipartUploadRequest { BucketName = Name, Key = key, ContentType = contentType });
        foreach (var (name, value) in metadata ?? [])
        {
            init.Metadata.Add(name, value);
        }

        return new S3MultipartWrite(this, key, (await Client.InitiateMultipartUploadAsync(init, cancellationToken)).UploadId, sourceKey);
    }

    /// <summary>
    /// An ETag for a conditional write, without its quotes: AWS compares either form, Ceph radosgw only this one
    /// (quoted, it refuses every write with 412).
    /// </summary>
    public static string? Unquoted(string? etag) => etag?.Trim('"');

    /// <summary>The MD5 an ETag is (32 hex digits, quoted or not); null for any other ETag, such as a multipart upload's "…-N".</summary>
    public static byte[]? Md5Of(string? etag) =>
        Unquoted(etag) is { Length: 32 } hex && hex.All(char.IsAsciiHexDigit) ? Convert.FromHexString(hex) : null;

    /// <summary>Whether ETags of what is stored with this encryption are MD5s of its bytes: not with SSE-KMS or DSSE-KMS.</summary>
    public static bool ETagsAreMd5s(ServerSideEncryptionMethod? encryption) =>
        encryption is null || encryption == ServerSideEncryptionMethod.None || encryption == ServerSideEncryptionMethod.AES256;

    /// <summary>Underscores become hyphens: several S3 stores and proxies drop or rewrite header names with underscores.</summary>
    public static string S3MetadataName(string name) => name.Replace('_', '-');

    /// <summary>The SDK names user metadata "x-amz-meta-name"; requests take the bare name.</summary>
    private static string MetadataName(string name) =>
        name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? name["x-amz-meta-".Length..] : name;

    public static DateTimeOffset? Utc(DateTime? time) =>
        time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t.ToUniversalTime(), DateTimeKind.Utc)) : null;

    private static DateTimeOffset? StoredTime(string? value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
}

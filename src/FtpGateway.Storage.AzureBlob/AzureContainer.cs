using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FtpGateway.Storage.ObjectStore;

namespace FtpGateway.Storage.AzureBlob;

/// <summary>
/// One container and what every write to it carries: the configured access tier (<see cref="Decorate{T}"/>) and
/// the conditions of a conditional write. The store and the block writer each take this; neither calls back
/// into the other.
/// </summary>
internal sealed class AzureContainer(BlobContainerClient client, AccessTier? tier)
{
    public BlobContainerClient Client => client;

    /// <summary>What every write carries: the configured access tier. The one place it is set.</summary>
    public T Decorate<T>(T options)
        where T : class
    {
        switch (options)
        {
            case BlobUploadOptions upload:
                upload.AccessTier = tier;
                break;
            case CommitBlockListOptions commit:
                commit.AccessTier = tier;
                break;
            case BlobCopyFromUriOptions copy:
                copy.AccessTier = tier;
                break;
            default:
                throw new ArgumentException($"{typeof(T).Name} does not create a blob", nameof(options));
        }

        return options;
    }

    public static BlobRequestConditions? Conditions(WriteCondition condition) =>
        condition.IfNoneMatch ? new BlobRequestConditions { IfNoneMatch = ETag.All }
        : condition.IfMatch is { } etag ? new BlobRequestConditions { IfMatch = new ETag(etag) }
        : null;

    /// <summary>The commit of a block list: the only moment a blob written in blocks changes.</summary>
    public Task CommitAsync(BlockBlobClient blob, IEnumerable<string> ids, WriteCondition condition, byte[]? md5, IReadOnlyDictionary<string, string>? metadata) =>
        blob.CommitBlockListAsync(
            ids,
            Decorate(new CommitBlockListOptions
            {
                Metadata = metadata?.ToDictionary(),
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream", ContentHash = md5 },
                Conditions = Conditions(condition),
            }),
            CancellationToken.None);
}

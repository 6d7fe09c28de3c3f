using System.Security.Cryptography;
using Azure.Storage.Blobs.Specialized;
using FtpGateway.Storage.ObjectStore;

#pragma warning disable CA5351 // Each block's transactional MD5 is Azure's transport integrity check, not a security use of MD5.

namespace FtpGateway.Storage.AzureBlob;

/// <summary>
/// One block blob being written: blocks staged with unique random ids (two clients writing the same name can
/// never mix blocks), each with a transactional MD5 the service checks; one CommitBlockList is the only moment
/// the blob changes. Staged blocks that are never committed expire on their own, so nothing needs aborting.
/// </summary>
internal sealed class AzureBlockWrite(AzureContainer container, BlockBlobClient blob, IReadOnlyDictionary<string, string>? metadata) : IMultipartWrite
{
    private int _idLength = 32; // bytes before base64; all block ids of a blob must have the same length

    public async Task<string> UploadPartAsync(int number, PartContent data, CancellationToken cancellationToken)
    {
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(_idLength));
        await blob.StageBlockAsync(id, data.OpenRead(), data.Md5(), conditions: null, progressHandler: null, cancellationToken: cancellationToken);
        return id;
    }

    /// <summary>A committed block of the existing blob, kept as it is.</summary>
    public Task<string> AddKeptPartAsync(int number, KeptPart part, CancellationToken cancellationToken)
    {
        _idLength = IdLength(part.BlockId!) ?? _idLength;
        return Task.FromResult(part.BlockId!);
    }

    /// <summary>The commit: the block list with the blob's final metadata (its SHA-256 included) in one request.</summary>
    public Task CompleteAsync(
        IReadOnlyList<(int Number, string Token)> parts, WriteCondition condition, byte[]? md5, IReadOnlyDictionary<string, string>? final, CancellationToken cancellationToken) =>
        container.CommitAsync(blob, parts.Select(p => p.Token), condition, md5, final ?? metadata);

    public Task AbortAsync() => Task.CompletedTask;

    /// <summary>The decoded length of a base64 block id; null when it is not one.</summary>
    internal static int? IdLength(string id)
    {
        var bytes = new byte[id.Length];
        return Convert.TryFromBase64String(id, bytes, out var length) && length > 0 ? length : null;
    }
}

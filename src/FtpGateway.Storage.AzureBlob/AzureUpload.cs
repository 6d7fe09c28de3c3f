using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

#pragma warning disable CA5351 // Content-MD5 is Azure's transport and content integrity check, not a security use of MD5.

namespace FtpGateway.Storage.AzureBlob;

/// <summary>
/// One streaming upload into a block blob: blocks of pooled buffers staged with unique random ids (two clients
/// writing the same name never mix blocks), at most MaxConcurrentBlocks in flight (backpressure onto the data
/// connection), each with a transactional MD5; then one CommitBlockList, the only moment the blob changes.
/// APPE and REST+STOR put the existing blob's committed blocks (those wholly inside the kept range) in front of
/// the new ones without moving their data; a partly kept block is read back into the first new block.
/// </summary>
internal sealed class AzureUpload(AzureBlobStorageProvider provider, BlockBlobClient blob, UploadRequest request, CancellationToken cancellationToken)
{
    private const int MaxBlocks = 50_000;
    private readonly int _blockSize = provider.Options.BlockSize;
    private int _idLength = 32;

    public async Task<long> RunAsync(long keep, ETag? existingETag)
    {
        var reused = new List<string>();
        long reusedBytes = 0;
        Stream? keptTail = null;
        if (keep > 0)
        {
            // The commit is conditional on the existing blob's ETag, so the list read here is the one committed over.
            var conditions = new BlobRequestConditions { IfMatch = existingETag };
            var list = (await blob.GetBlockListAsync(BlockListTypes.Committed, cancellationToken: cancellationToken)).Value;
            foreach (var block in list.CommittedBlocks ?? [])
            {
                if (reusedBytes + block.SizeLong > keep || !TryIdLength(block.Name, out var length) || (reused.Count > 0 && length != _idLength))
                {
                    break;
                }

                _idLength = length; // all block ids of a blob must have the same length
                reused.Add(block.Name);
                reusedBytes += block.SizeLong;
            }

            if (reusedBytes < keep)
            {
                var download = await blob.DownloadStreamingAsync(
                    new BlobDownloadOptions { Range = new HttpRange(reusedBytes, keep - reusedBytes), Conditions = conditions },
                    cancellationToken);
                keptTail = download.Value.Content;
            }
        }

        await using (keptTail)
        {
            var source = keptTail is null ? request.Source : new ConcatenatedStream(keptTail, request.Source);

            // The whole blob's MD5 is known only when every byte passed through here.
            using var md5 = reused.Count == 0 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
            var staged = await StageAllAsync(source, md5, reused.Count);
            var conditions = request.Mode == UploadMode.CreateNew
                ? new BlobRequestConditions { IfNoneMatch = ETag.All }
                : keep > 0 ? new BlobRequestConditions { IfMatch = existingETag } : null;
            var options = new CommitBlockListOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream", ContentHash = md5?.GetHashAndReset() },
                Conditions = conditions,
            };
            if (!string.IsNullOrEmpty(provider.Options.AccessTier))
            {
                options.AccessTier = new AccessTier(provider.Options.AccessTier);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (request.BeforeCommit is not null)
            {
                await request.BeforeCommit(cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();

            // The commit point: not cancelled half-way (the blob could change while the client is told it failed).
            await blob.CommitBlockListAsync(reused.Concat(staged.Ids), options, CancellationToken.None);
            return reusedBytes + staged.Bytes;
        }
    }

    private async Task<(List<string> Ids, long Bytes)> StageAllAsync(Stream source, IncrementalHash? md5, int reusedCount)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(provider.Options.MaxConcurrentBlocks);
        var inFlight = new List<Task>();
        var ids = new List<string>();
        long total = 0;
        try
        {
            while (true)
            {
                var buffer = provider.Buffers.Rent(_blockSize);
                var (length, ended) = await ReadOnlyStream.FillAsync(source, buffer, 0, _blockSize, cancellationToken);
                if (length == 0)
                {
                    provider.Buffers.Return(buffer);
                    break;
                }

                if (reusedCount + ids.Count >= MaxBlocks)
                {
                    provider.Buffers.Return(buffer);
                    throw new StorageException(StorageErrorKind.InsufficientStorage, $"More than {MaxBlocks} blocks: raise Storage:AzureBlob:BlockSizeMiB");
                }

                md5?.AppendData(buffer, 0, length);
                await slots.WaitAsync(failed.Token);
                var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(_idLength));
                ids.Add(id);
                inFlight.Add(StageAsync(id, buffer, length, slots, failed));
                total += length;
                if (ended)
                {
                    break;
                }
            }

            await Task.WhenAll(inFlight);
            return (ids, total);
        }
        catch
        {
            // Staged blocks that are never committed expire on their own; nothing becomes visible.
            await failed.CancelAsync();
            await Task.WhenAll(inFlight).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    private async Task StageAsync(string id, byte[] buffer, int length, SemaphoreSlim slots, CancellationTokenSource failed)
    {
        try
        {
            await blob.StageBlockAsync(
                id,
                new MemoryStream(buffer, 0, length, writable: false),
                MD5.HashData(buffer.AsSpan(0, length)),
                conditions: null,
                progressHandler: null,
                cancellationToken: failed.Token);
        }
        catch
        {
            await failed.CancelAsync(); // the first failure stops the others and the reader
            throw;
        }
        finally
        {
            provider.Buffers.Return(buffer);
            slots.Release();
        }
    }

    private static bool TryIdLength(string id, out int length)
    {
        var bytes = new byte[id.Length];
        var ok = Convert.TryFromBase64String(id, bytes, out length);
        return ok && length > 0;
    }

    /// <summary>The kept tail of the existing blob, then the client's data.</summary>
    private sealed class ConcatenatedStream(Stream first, Stream second) : ReadOnlyStream
    {
        private bool _firstDone;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_firstDone)
            {
                var n = await first.ReadAsync(buffer, cancellationToken);
                if (n > 0)
                {
                    return n;
                }

                _firstDone = true;
            }

            return await second.ReadAsync(buffer, cancellationToken);
        }
    }
}

using System.Buffers;
using System.Security.Cryptography;
using Amazon.S3.Model;

#pragma warning disable CA5351 // Content-MD5 is S3's transport integrity check, not a security use of MD5.

namespace FtpGateway.Storage.S3;

/// <summary>
/// One streaming upload. The data is read into pooled buffers of the part size. If it ends within the first
/// part, one PutObject; otherwise a multipart upload with at most MaxConcurrentParts parts in flight: when S3 is
/// slower than the client, reading stops (backpressure onto the data connection). Memory is bounded by
/// part size × (parts in flight + 1), whatever the file size. Nothing is visible until CompleteMultipartUpload;
/// any failure or cancellation aborts the multipart upload.
/// </summary>
internal sealed class S3Upload(S3StorageProvider provider, string key, UploadRequest request, CancellationToken cancellationToken)
{
    private readonly int _partSize = provider.Options.PartSize;

    /// <summary>Uploads; returns the object's size once committed.</summary>
    /// <param name="keep">Bytes of the existing object to keep in front (APPE, REST+STOR).</param>
    /// <param name="keepETag">The existing object's ETag: the kept bytes must come from that version.</param>
    public async Task<long> RunAsync(long keep, string? keepETag)
    {
        var first = provider.Buffers.Rent(_partSize);
        var firstReturned = false;
        try
        {
            // A short kept prefix is read into the first part; a long one is copied server-side (UploadPartCopy).
            var copyPrefix = keep >= S3StorageProvider.MinimumPart;
            var filled = 0;
            if (keep > 0 && !copyPrefix)
            {
                filled = await ReadExistingAsync(first, (int)keep, keepETag);
            }

            var (read, ended) = await FillAsync(first, filled);
            filled += read;
            if (!copyPrefix && ended)
            {
                await PutAsync(first, filled);
                return filled;
            }

            firstReturned = true; // ownership passes to the multipart upload
            return await MultipartAsync(first, filled, ended, copyPrefix ? keep : 0, keepETag) + (copyPrefix ? keep : 0);
        }
        finally
        {
            if (!firstReturned)
            {
                provider.Buffers.Return(first);
            }
        }
    }

    private async Task PutAsync(byte[] buffer, int length)
    {
        var put = new PutObjectRequest
        {
            BucketName = provider.Bucket,
            Key = key,
            InputStream = new MemoryStream(buffer, 0, length, writable: false),
            ContentType = "application/octet-stream",
        };
        provider.Protect(put, buffer, length);
        put.Metadata.Add(S3StorageProvider.Sha256Metadata, Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, length))));
        if (request.Mode == UploadMode.CreateNew)
        {
            put.IfNoneMatch = "*";
        }

        provider.Decorate(put);
        await ConfirmAsync();
        await provider.Client.PutObjectAsync(put, CancellationToken.None); // the commit point: see MultipartAsync
    }

    private async Task<long> MultipartAsync(byte[] first, int firstLength, bool ended, long copied, string? keepETag)
    {
        var init = new InitiateMultipartUploadRequest { BucketName = provider.Bucket, Key = key, ContentType = "application/octet-stream" };
        provider.Decorate(init);
        string uploadId;
        try
        {
            // Not cancelled half-way: the store could create the upload and we would never learn its id to abort it.
            uploadId = (await provider.Client.InitiateMultipartUploadAsync(init, CancellationToken.None)).UploadId;
        }
        catch
        {
            provider.Buffers.Return(first);
            throw;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            provider.Buffers.Return(first);
            await provider.AbortQuietlyAsync(key, uploadId);
            cancellationToken.ThrowIfCancellationRequested();
        }

        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(provider.Options.MaxConcurrentParts);
        var inFlight = new List<Task<PartETag>>();
        var parts = new List<PartETag>();
        long total = 0;
        try
        {
            if (copied > 0)
            {
                parts.AddRange(await provider.CopyPartsAsync(key, key, uploadId, copied, 1, failed.Token, keepETag));
            }

            var partNumber = parts.Count + 1;
            var (buffer, length) = (first, firstLength);
            while (true)
            {
                if (length == 0)
                {
                    provider.Buffers.Return(buffer);
                    break;
                }

                if (partNumber > S3StorageProvider.MaxParts)
                {
                    provider.Buffers.Return(buffer);
                    throw new StorageException(StorageErrorKind.InsufficientStorage, $"More than {S3StorageProvider.MaxParts} parts: raise Storage:S3:PartSizeMiB");
                }

                await slots.WaitAsync(failed.Token);
                inFlight.Add(UploadPartAsync(uploadId, partNumber++, buffer, length, slots, failed));
                total += length;
                if (ended)
                {
                    break;
                }

                buffer = provider.Buffers.Rent(_partSize);
                (length, ended) = await FillAsync(buffer, 0);
            }

            parts.AddRange(await Task.WhenAll(inFlight));
            await ConfirmAsync();

            // The commit point. Once the client is confirmed present, the commit is not cancelled half-way: a
            // cancelled request could still complete on the store while the client is told the upload failed.
            await provider.Client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = provider.Bucket, Key = key, UploadId = uploadId, PartETags = parts },
                CancellationToken.None);
            return total;
        }
        catch
        {
            await failed.CancelAsync();
            await Task.WhenAll(inFlight).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await provider.AbortQuietlyAsync(key, uploadId);
            throw;
        }
    }

    private async Task<PartETag> UploadPartAsync(string uploadId, int partNumber, byte[] buffer, int length, SemaphoreSlim slots, CancellationTokenSource failed)
    {
        try
        {
            var part = new UploadPartRequest
            {
                BucketName = provider.Bucket,
                Key = key,
                UploadId = uploadId,
                PartNumber = partNumber,
                PartSize = length,
                InputStream = new MemoryStream(buffer, 0, length, writable: false),
            };
            provider.Protect(part, buffer, length);
            var response = await provider.Client.UploadPartAsync(part, failed.Token);
            return new PartETag(partNumber, response.ETag);
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

    private ValueTask<(int Read, bool Ended)> FillAsync(byte[] buffer, int offset) =>
        ReadOnlyStream.FillAsync(request.Source, buffer, offset, _partSize - offset, cancellationToken);

    /// <summary>The first <paramref name="length"/> bytes of the existing object (of the version seen before).</summary>
    private async Task<int> ReadExistingAsync(byte[] buffer, int length, string? etag)
    {
        using var response = await provider.Client.GetObjectAsync(
            new GetObjectRequest { BucketName = provider.Bucket, Key = key, ByteRange = new ByteRange(0, length - 1), EtagToMatch = etag },
            cancellationToken);
        var total = 0;
        while (total < length)
        {
            var n = await response.ResponseStream.ReadAsync(buffer.AsMemory(total, length - total), cancellationToken);
            if (n == 0)
            {
                throw new StorageException(StorageErrorKind.Unavailable, "The existing object is shorter than it was");
            }

            total += n;
        }

        return total;
    }

    /// <summary>The last moment an upload can still be refused: cut short, or the client no longer there.</summary>
    private async Task ConfirmAsync()
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (request.BeforeCommit is not null)
        {
            await request.BeforeCommit(cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }
}

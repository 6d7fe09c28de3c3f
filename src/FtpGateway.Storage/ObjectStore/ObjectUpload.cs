using System.Buffers;
using System.Security.Cryptography;

#pragma warning disable CA5351 // The whole object's MD5 is the stores' own content check (Content-MD5), not a security use.

namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// One upload in progress as parts (S3 multipart upload, Azure staged blocks): nothing is visible until
/// <see cref="CompleteAsync"/>; <see cref="AbortAsync"/> discards it.
/// </summary>
public abstract class MultipartWrite
{
    /// <summary>Uploads one part of new data; returns what the commit needs to name it (an ETag, a block id).</summary>
    public abstract Task<string> UploadPartAsync(int number, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Makes a kept part of the existing object a part of this upload, server-side.</summary>
    public abstract Task<string> AddKeptPartAsync(int number, KeptPart part, CancellationToken cancellationToken);

    /// <summary>
    /// The commit point. <paramref name="md5"/> is the whole object's MD5 when every byte passed through and the
    /// store keeps it (<see cref="ObjectStoreProvider.KeepsWholeObjectMd5"/>).
    /// </summary>
    public abstract Task CompleteAsync(IReadOnlyList<(int Number, string Token)> parts, WriteCondition condition, byte[]? md5, CancellationToken cancellationToken);

    /// <summary>Discards the parts; never throws (the store's own expiry is the backstop).</summary>
    public abstract Task AbortAsync();
}

/// <summary>
/// The streaming upload both object stores share. The data is read into pooled buffers of the part size. If it
/// ends within the first part (and nothing of an existing object is kept server-side), one request stores it;
/// otherwise a multipart write runs with a bounded number of parts in flight: when the store is slower than
/// the client, reading stops (backpressure onto the data connection), and memory stays at most part size ×
/// (parts in flight + 1) whatever the file size. The first failure cancels the other parts and discards the
/// upload. Nothing is visible until the commit, which happens only after the request's BeforeCommit check.
/// </summary>
internal sealed class ObjectUpload(ObjectStoreProvider store, string key, UploadRequest request, CancellationToken cancellationToken)
{
    private readonly ObjectStoreSettings _settings = store.Settings;

    /// <summary>Uploads, keeping <paramref name="keep"/> bytes of <paramref name="existing"/> in front; returns the size committed.</summary>
    public async Task<long> RunAsync(ObjectInfo? existing, long keep)
    {
        // STOU never replaces; APPE and REST + STOR commit only over the version they started from (or, where
        // there was none, only if there still is none), so a concurrent change fails them instead of being lost.
        var condition = request.Mode switch
        {
            UploadMode.CreateNew => WriteCondition.NothingThere,
            UploadMode.Append or UploadMode.Resume when existing is not null => WriteCondition.StillVersion(existing.ETag),
            UploadMode.Append => WriteCondition.NothingThere,
            _ => WriteCondition.None,
        };
        var kept = keep > 0 ? await store.KeepPrefixAsync(existing!, keep, cancellationToken) : KeptPrefix.Nothing;
        await using var remainder = kept.Remainder;
        var source = remainder is null ? request.Source : new ConcatenatedStream(remainder, request.Source);

        // The whole object's MD5 is known only when every byte passes through here; only a store that keeps it asks.
        using var md5 = kept.Parts.Count == 0 && store.KeepsWholeObjectMd5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        var first = new PartBuffer(store.Buffers, _settings.PartSize);
        try
        {
            var (length, ended) = await FillAsync(source, first.Array);
            if (kept.Parts.Count == 0 && ended)
            {
                await ConfirmAsync();
                await store.PutAsync(key, first.Array.AsMemory(0, length), condition, request.Metadata, CancellationToken.None); // the commit point
                return length;
            }

            return await MultipartAsync(source, kept, first, length, ended, condition, md5);
        }
        finally
        {
            first.Return();
        }
    }

    private async Task<long> MultipartAsync(Stream source, KeptPrefix kept, PartBuffer first, int firstLength, bool ended, WriteCondition condition, IncrementalHash? md5)
    {
        var write = await store.BeginMultipartAsync(key, request.Metadata, cancellationToken);
        try
        {
            var parts = new List<(int Number, string Token)>();
            foreach (var part in kept.Parts)
            {
                parts.Add((parts.Count + 1, await write.AddKeptPartAsync(parts.Count + 1, part, cancellationToken)));
            }

            var keptBytes = kept.Parts.Sum(p => p.Length);
            var (uploaded, bytes) = await UploadPartsAsync(write, source, first.Take(), firstLength, ended, parts.Count + 1, md5);
            parts.AddRange(uploaded);
            await ConfirmAsync();

            // The commit point. Once the client is confirmed present it is not cancelled half-way: a cancelled
            // request could still complete on the store while the client is told the upload failed.
            await write.CompleteAsync(parts, condition, md5?.GetHashAndReset(), CancellationToken.None);
            return keptBytes + bytes;
        }
        catch
        {
            await write.AbortAsync();
            throw;
        }
    }

    /// <summary>The bounded part loop: reads part after part while at most MaxConcurrentParts are in flight.</summary>
    private async Task<(List<(int, string)> Parts, long Bytes)> UploadPartsAsync(
        MultipartWrite write, Stream source, byte[] first, int firstLength, bool ended, int firstNumber, IncrementalHash? md5)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(_settings.MaxConcurrentParts);
        var inFlight = new List<Task<(int, string)>>();
        var (buffer, length, number) = ((byte[]?)first, firstLength, firstNumber);
        long total = 0;
        try
        {
            while (length > 0)
            {
                if (number > _settings.MaxParts)
                {
                    throw new StorageException(StorageErrorKind.InsufficientStorage, $"More than {_settings.MaxParts} parts: raise {_settings.PartSizeKey}");
                }

                md5?.AppendData(buffer!, 0, length);
                await slots.WaitAsync(failed.Token);
                inFlight.Add(UploadPartAsync(write, number++, buffer!, length, slots, failed));
                buffer = null; // the part task returns it
                total += length;
                if (ended)
                {
                    break;
                }

                buffer = store.Buffers.Rent(_settings.PartSize);
                (length, ended) = await FillAsync(source, buffer);
            }

            return ([.. await Task.WhenAll(inFlight)], total);
        }
        catch (Exception ex)
        {
            await failed.CancelAsync();
            await Task.WhenAll(inFlight).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

            // A part that failed cancelled the reader: the store's failure, not the cancellation, is what happened.
            var partFailure = inFlight.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException);
            if (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested && partFailure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(partFailure);
            }

            throw;
        }
        finally
        {
            if (buffer is not null)
            {
                store.Buffers.Return(buffer);
            }
        }
    }

    private async Task<(int, string)> UploadPartAsync(MultipartWrite write, int number, byte[] buffer, int length, SemaphoreSlim slots, CancellationTokenSource failed)
    {
        try
        {
            return (number, await write.UploadPartAsync(number, buffer.AsMemory(0, length), failed.Token));
        }
        catch
        {
            await failed.CancelAsync(); // the first failure stops the others and the reader
            throw;
        }
        finally
        {
            store.Buffers.Return(buffer);
            slots.Release();
        }
    }

    private ValueTask<(int Read, bool Ended)> FillAsync(Stream source, byte[] buffer) =>
        ReadOnlyStream.FillAsync(source, buffer, 0, _settings.PartSize, cancellationToken);

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

    /// <summary>A rented part buffer with one owner at a time: returned once, by whoever holds it last.</summary>
    private sealed class PartBuffer(ArrayPool<byte> pool, int size)
    {
        private byte[]? _array = pool.Rent(size);

        public byte[] Array => _array ?? throw new InvalidOperationException("The buffer was handed over");

        /// <summary>Hands the buffer over (to the part loop, which returns it).</summary>
        public byte[] Take()
        {
            var array = Array;
            _array = null;
            return array;
        }

        public void Return()
        {
            if (_array is not null)
            {
                pool.Return(_array);
                _array = null;
            }
        }
    }

    /// <summary>The kept bytes of the existing object that must be sent again, then the client's data.</summary>
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

using System.Buffers;
using System.Security.Cryptography;

#pragma warning disable CA5351 // The whole object's MD5 is the stores' own content check (Content-MD5), not a security use.

namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// The streaming upload both object stores share. The data is read into pooled chunks of the configured part
/// size. If it ends within the first part (and nothing of an existing object is kept server-side), one request
/// stores it; otherwise a multipart write runs, its parts growing as the upload grows (<see cref="PartSchedule"/>),
/// with a bounded number of bytes in flight: when the store is slower than the client, reading stops
/// (backpressure onto the data connection). Memory per upload is at most the configured part size × (parts in
/// flight + 1), or two parts once parts have grown larger than that; never the file size. The first failure
/// cancels the other parts and discards the upload. Nothing is visible until the commit, which happens only
/// after the request's BeforeCommit check. Every byte of the stored object is hashed (SHA-256) on its way, and
/// the digest is kept with the object (<see cref="ObjectMetadata.Sha256"/>); bytes of an existing object that an
/// APPE or REST + STOR keeps server-side are read back once for it, before the new data.
/// </summary>
internal sealed class ObjectUpload(IObjectStore store, ObjectStoreSettings settings, ArrayPool<byte> buffers, string key, UploadRequest request, CancellationToken cancellationToken)
{

    /// <summary>
    /// Uploads, keeping <paramref name="keep"/> bytes of <paramref name="existing"/> in front; returns the size
    /// committed, the whole object's SHA-256, and the version stored when one request stored it (<see cref="IObjectStore.PutAsync"/>).
    /// </summary>
    public async Task<(long Size, byte[] Sha256, ObjectInfo? Stored)> RunAsync(ObjectInfo? existing, long keep)
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
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (kept.Parts.Count > 0)
        {
            await HashKeptPartsAsync(existing!, kept.Parts.Sum(p => p.Length), sha256);
        }

        var first = new PartBuffer(buffers, settings.ChunkSize);
        try
        {
            var ended = await first.FillAsync(source, settings.PartSize, cancellationToken);
            if (kept.Parts.Count == 0 && ended)
            {
                first.Content.AppendTo(sha256);
                var digest = sha256.GetHashAndReset();
                await ConfirmAsync();
                var stored = await store.PutAsync(key, first.Content, condition, WithDigest(digest), CancellationToken.None); // the commit point
                return (first.Length, digest, stored);
            }

            return await MultipartAsync(source, kept, first, ended, condition, md5, sha256);
        }
        finally
        {
            first.Return();
        }
    }

    /// <summary>The bytes of the existing object kept server-side (a copied range, reused blocks), read back once through the hash.</summary>
    private async Task HashKeptPartsAsync(ObjectInfo existing, long length, IncrementalHash sha256)
    {
        await using var kept = await store.OpenAsync(existing.Key, 0, cancellationToken)
            ?? throw new StorageException(StorageErrorKind.Conflict, $"'{request.Path}' changed during an append or resume");
        var buffer = buffers.Rent(settings.ChunkSize);
        try
        {
            while (length > 0)
            {
                var read = await kept.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length)), cancellationToken);
                if (read == 0)
                {
                    throw new StorageException(StorageErrorKind.Conflict, $"'{request.Path}' changed during an append or resume");
                }

                sha256.AppendData(buffer, 0, read);
                length -= read;
            }
        }
        finally
        {
            buffers.Return(buffer);
        }
    }

    /// <summary>The request's metadata and the whole object's SHA-256.</summary>
    private Dictionary<string, string> WithDigest(byte[] sha256) =>
        new(request.Metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal) { [ObjectMetadata.Sha256] = Convert.ToHexStringLower(sha256) };

    private async Task<(long, byte[], ObjectInfo?)> MultipartAsync(Stream source, KeptPrefix kept, PartBuffer first, bool ended, WriteCondition condition, IncrementalHash? md5, IncrementalHash sha256)
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
            using var loop = new PartLoop(settings, buffers, write, md5, sha256, cancellationToken);
            var (uploaded, bytes) = await loop.RunAsync(source, first.Take(), ended, parts.Count + 1);
            parts.AddRange(uploaded);
            await ConfirmAsync();

            // The commit point. Once the client is confirmed present it is not cancelled half-way: a cancelled
            // request could still complete on the store while the client is told the upload failed.
            var digest = sha256.GetHashAndReset();
            await write.CompleteAsync(parts, condition, md5?.GetHashAndReset(), WithDigest(digest), CancellationToken.None);
            return (keptBytes + bytes, digest, null);
        }
        catch
        {
            await write.AbortAsync();
            throw;
        }
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

    /// <summary>
    /// The bounded part loop: fills part after part while earlier ones upload. A filled part starts once the bytes in
    /// flight, with it and the next part it will fill, stay within the budget (the configured part size × (parts in
    /// flight + 1)), or when nothing else is in flight: so small parts go several at a time, and parts grown past
    /// the budget one at a time, one being filled beside it.
    /// </summary>
    private sealed class PartLoop(ObjectStoreSettings settings, ArrayPool<byte> pool, IMultipartWrite write, IncrementalHash? md5, IncrementalHash sha256, CancellationToken cancellationToken) : IDisposable
    {
        private readonly Lock _lock = new();
        private readonly SemaphoreSlim _released = new(0);
        private long _inFlight;

        private long Budget => settings.PartSize * (settings.MaxConcurrentParts + 1);

        public async Task<(List<(int, string)> Parts, long Bytes)> RunAsync(Stream source, PartBuffer filled, bool ended, int number)
        {
            var schedule = settings.Parts;
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var inFlight = new List<Task<(int, string)>>();
            var buffer = (PartBuffer?)filled;
            long total = 0;
            try
            {
                while (buffer!.Length > 0)
                {
                    if (number > schedule.MaxParts)
                    {
                        throw new StorageException(StorageErrorKind.InsufficientStorage, $"Larger than the store holds ({schedule.MaxParts} parts, {schedule.Capacity} bytes)");
                    }

                    if (md5 is not null)
                    {
                        buffer.Content.AppendTo(md5);
                    }

                    buffer.Content.AppendTo(sha256);

                    var next = ended ? 0 : schedule.SizeOf(number + 1);
                    await WaitForRoomAsync(buffer.Length, next, failed.Token);
                    inFlight.Add(UploadAsync(number++, buffer, failed));
                    total += buffer.Length;
                    buffer = null; // the part task returns it
                    if (ended)
                    {
                        break;
                    }

                    buffer = new PartBuffer(pool, settings.ChunkSize);
                    ended = await buffer.FillAsync(source, next, failed.Token);
                    if (buffer.Length == 0)
                    {
                        break; // the data ended exactly at a part boundary
                    }
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
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(partFailure!);
                }

                throw;
            }
            finally
            {
                buffer?.Return();
            }
        }

        public void Dispose() => _released.Dispose();

        private async Task WaitForRoomAsync(long part, long next, CancellationToken ct)
        {
            while (true)
            {
                lock (_lock)
                {
                    if (_inFlight == 0 || _inFlight + part + next <= Budget)
                    {
                        _inFlight += part;
                        return;
                    }
                }

                await _released.WaitAsync(ct);
            }
        }

        private async Task<(int, string)> UploadAsync(int number, PartBuffer buffer, CancellationTokenSource failed)
        {
            try
            {
                return (number, await write.UploadPartAsync(number, buffer.Content, failed.Token));
            }
            catch
            {
                await failed.CancelAsync(); // the first failure stops the others and the reader
                throw;
            }
            finally
            {
                var length = buffer.Length;
                buffer.Return();
                lock (_lock)
                {
                    _inFlight -= length;
                }

                try
                {
                    _released.Release();
                }
                catch (ObjectDisposedException)
                {
                    // The loop has ended (it failed): nobody waits.
                }
            }
        }
    }

    /// <summary>
    /// A part being filled or uploaded: pooled chunks of the configured part size, with one owner at a time,
    /// returned once by whoever holds it last.
    /// </summary>
    private sealed class PartBuffer(ArrayPool<byte> pool, int chunkSize)
    {
        private readonly List<byte[]> _chunks = [];
        private bool _returned;

        public long Length { get; private set; }

        public PartContent Content => new(_chunks, chunkSize, Length);

        /// <summary>Reads until the part holds <paramref name="size"/> bytes or the source ends; true when it ended.</summary>
        public async Task<bool> FillAsync(Stream source, long size, CancellationToken ct)
        {
            while (Length < size)
            {
                var within = (int)(Length % chunkSize);
                if (within == 0)
                {
                    _chunks.Add(pool.Rent(chunkSize));
                }

                var want = (int)Math.Min(chunkSize - within, size - Length);
                var (read, ended) = await ReadOnlyStream.FillAsync(source, _chunks[^1], within, want, ct);
                Length += read;
                if (ended)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Hands the buffer over (to the part loop, which returns it).</summary>
        public PartBuffer Take() => this;

        public void Return()
        {
            if (!_returned)
            {
                _returned = true;
                _chunks.ForEach(c => pool.Return(c));
                _chunks.Clear();
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

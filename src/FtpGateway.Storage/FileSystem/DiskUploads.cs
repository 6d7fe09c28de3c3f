using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// Uploads to the local disk. A new version is written to a temporary (<see cref="UploadTemporaries"/>) and
/// renamed into place only when complete, so readers see the old file until the new one is whole. APPE to an
/// existing file writes in place at its end under a per-file lock (<see cref="AppendLocks"/>), so concurrent appends
/// follow one another and one that fails is cut back (its writes cost what it sends). Every upload's whole file is
/// hashed (SHA-256) as it is written — an append reads the existing bytes back once for it, so an append's reading
/// grows with the file — and the digest is kept with the file (<see cref="StoredDigest"/>): set on a new version
/// before it is renamed into place, removed from a file an append is changing and set again when it is whole.
/// </summary>
internal sealed class DiskUploads(ConfinedTree tree, UploadTemporaries temporaries, AppendLocks locks)
{
    private const int CopyBufferSize = 256 * 1024;

    /// <summary>NAME_MAX of Linux file systems.</summary>
    private const int MaxNameBytes = 255;

    public async ValueTask<StorageEntry> UploadAsync(UploadRequest request, CancellationToken cancellationToken)
    {
        var path = request.Path;

        // The parent stays open for the whole upload: the file lands in that directory even if it is renamed meanwhile.
        using var parent = OpenTargetParent(tree, path, out var existing);

        if (request.Mode == UploadMode.Append && existing is not null)
        {
            return await AppendInPlaceAsync(path, request.Source, request.BeforeCommit, cancellationToken);
        }

        var keep = UploadRules.KeptBytes(request, existing is { } e ? (long)e.Size : null);
        var temp = temporaries.Create(parent, path);
        var committed = false;
        try
        {
            var sha256 = await WriteTemporaryAsync(temp.File, path, keep, request, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            var noReplace = request.Mode is UploadMode.CreateNew or UploadMode.Append;
            switch (UploadTemporaries.Commit(temp, parent, path.Name, noReplace))
            {
                case 0:
                    committed = true;
                    return FileSystemStorageProvider.Entry(path, tree.Describe(parent, path) ?? throw StorageException.NotFound(path)) with { Sha256 = sha256 };
                case Libc.EEXIST when request.Mode == UploadMode.Append:
                    // Another APPE created the file meanwhile: this one's data goes after it, in place.
                    using (var written = new FileStream(UploadTemporaries.OpenRead(temp), FileAccess.Read, bufferSize: 0))
                    {
                        return await AppendInPlaceAsync(path, written, null, cancellationToken);
                    }

                case var errno:
                    throw FileSystemErrors.For(errno, path, "committing an upload");
            }
        }
        catch (IOException ex)
        {
            throw FileSystemErrors.For(ex, path, "uploading");
        }
        finally
        {
            temp.File.Dispose();
            if (!committed)
            {
                UploadTemporaries.Delete(temp);
            }
        }
    }

    /// <summary>Refuses an upload to <paramref name="path"/> before any data: no such directory, a directory, a name too long.</summary>
    public static void CheckTarget(ConfinedTree tree, StoragePath path)
    {
        using var parent = OpenTargetParent(tree, path, out _);
    }

    /// <summary>The opened directory an upload to <paramref name="path"/> lands in, and what is there now (a regular file, or nothing).</summary>
    private static SafeFileHandle OpenTargetParent(ConfinedTree tree, StoragePath path, out Libc.StatxBuffer? existing)
    {
        if (path.IsRoot)
        {
            throw new StorageException(StorageErrorKind.IsADirectory, "Cannot upload to the root");
        }

        if (System.Text.Encoding.UTF8.GetByteCount(path.Name) > MaxNameBytes)
        {
            throw new StorageException(StorageErrorKind.InvalidName, $"'{path.Name[..16]}...' is longer than a file name may be ({MaxNameBytes} bytes)");
        }

        var parent = tree.OpenParent(path);
        try
        {
            existing = tree.Describe(parent, path);
            if (existing is { } found && found.Type != Libc.SIfReg)
            {
                throw found.Type == Libc.SIfDir
                    ? new StorageException(StorageErrorKind.IsADirectory, $"'{path}' is a directory")
                    : new StorageException(StorageErrorKind.AccessDenied, $"'{path}' is not a regular file");
            }

            return parent;
        }
        catch
        {
            parent.Dispose();
            throw;
        }
    }

    /// <summary>The new version in full: the kept bytes of the existing file, the client's data; then the last check. Returns its SHA-256, kept with it.</summary>
    private async Task<byte[]> WriteTemporaryAsync(SafeFileHandle temp, StoragePath path, long keep, UploadRequest request, CancellationToken cancellationToken)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long written = 0;
        if (keep > 0)
        {
            await using var existing = FileSystemStorageProvider.OpenRead(tree, path, 0);
            written = await CopyAsync(existing, temp, 0, keep, sha256, cancellationToken);
        }

        await CopyAsync(request.Source, temp, written, long.MaxValue, sha256, cancellationToken);
        if (request.BeforeCommit is not null)
        {
            await request.BeforeCommit(cancellationToken);
        }

        var digest = sha256.GetHashAndReset();
        StoredDigest.Write(temp, digest);
        return digest;
    }

    /// <summary>
    /// APPE to an existing file: written in place at its end, one append at a time per file (across processes
    /// too); an append that fails is cut back to the previous length.
    /// </summary>
    private async Task<StorageEntry> AppendInPlaceAsync(StoragePath path, Stream source, Func<CancellationToken, ValueTask>? beforeCommit, CancellationToken cancellationToken)
    {
        var (opened, identity) = tree.OpenFile(path, "appending");
        using (opened)
        {
            using var file = ConfinedTree.Reopen(opened, Libc.OWrOnly, path);
            using var locked = await locks.AcquireAsync(identity.UniqueId, file, cancellationToken);
            long start = -1;
            try
            {
                start = RandomAccess.GetLength(file);
                using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                using (var existing = new FileStream(ConfinedTree.Reopen(opened, Libc.ORdOnly, path), FileAccess.Read, bufferSize: 0))
                {
                    await HashAsync(existing, start, sha256, cancellationToken);
                }

                StoredDigest.Remove(file); // set again once the append is whole
                await CopyAsync(source, file, start, long.MaxValue, sha256, cancellationToken);
                if (beforeCommit is not null)
                {
                    await beforeCommit(cancellationToken);
                }

                cancellationToken.ThrowIfCancellationRequested();
                var digest = sha256.GetHashAndReset();
                StoredDigest.Write(file, digest);
                return FileSystemStorageProvider.Entry(path, ConfinedTree.Stat(opened, path)) with { Sha256 = digest };
            }
            catch (IOException ex)
            {
                CutBack(file, start);
                throw FileSystemErrors.For(ex, path, "appending");
            }
            catch
            {
                CutBack(file, start);
                throw;
            }
        }
    }

    /// <summary>Makes the file what it was before a failed append.</summary>
    private static void CutBack(SafeFileHandle file, long length)
    {
        if (length >= 0)
        {
            Libc.Ftruncate(file, length);
        }
    }

    /// <summary>The first <paramref name="length"/> bytes of the existing file, into the hash of the whole file (an append's).</summary>
    private static async Task HashAsync(Stream existing, long length, IncrementalHash sha256, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            int read;
            while (length > 0 && (read = await existing.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length)), cancellationToken)) > 0)
            {
                sha256.AppendData(buffer, 0, read);
                length -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Copies up to <paramref name="limit"/> bytes from <paramref name="source"/> into <paramref name="file"/> at
    /// <paramref name="offset"/>; returns the offset after them. The disk is written synchronously: on a local
    /// disk a write lands in the page cache in microseconds, and an asynchronous file write on Linux is that same
    /// write handed to another thread and back. The hash of a full buffer runs on another thread beside the next
    /// read and write, one buffer at a time and in order: SHA-256 is the largest single cost of a large upload
    /// (about 0.6 s of a core per GiB), and beside the copy it no longer adds to it. The buffer the data ends in (a
    /// small upload's only one) is hashed here, with no hand-off.
    /// </summary>
    private static async Task<long> CopyAsync(Stream source, SafeFileHandle file, long offset, long limit, IncrementalHash sha256, CancellationToken cancellationToken)
    {
        var buffers = new byte[2][];
        var hashing = Task.CompletedTask;
        try
        {
            for (var current = 0; limit > 0; current ^= 1)
            {
                // A whole buffer per write: a TLS data connection yields one record (16 KiB) per read, and a write
                // and a hash call for each held FTPS STOR at 344 MB/s against 377 with full buffers (benchmarks/).
                // The buffer is free: its last hash was awaited before the other one's started.
                var buffer = buffers[current] ??= System.Buffers.ArrayPool<byte>.Shared.Rent(CopyBufferSize);
                var (read, ended) = await ReadOnlyStream.FillAsync(source, buffer, 0, (int)Math.Min(buffer.Length, limit), cancellationToken);
                RandomAccess.Write(file, buffer.AsSpan(0, read), offset);
                offset += read;
                limit -= read;
                await hashing; // the previous buffer's: the digest takes them in order
                if (ended || limit == 0)
                {
                    sha256.AppendData(buffer, 0, read);
                    break;
                }

                hashing = Task.Run(() => sha256.AppendData(buffer, 0, read), CancellationToken.None); // never skipped: the digest needs every buffer
            }

            return offset;
        }
        finally
        {
            // Never return a buffer that is still being hashed.
            await hashing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var buffer in buffers)
            {
                if (buffer is not null)
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }
}

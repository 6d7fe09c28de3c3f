using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using FtpGateway.Ftp.Protocol;
using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Ftp.Transfers;

/// <summary>
/// Thrown when the data connection fails (reset, broken, timed out). Deliberately not an IOException, so a
/// storage provider that translates its own I/O errors can never mistake a client's failure for a storage one.
/// </summary>
internal sealed class DataConnectionException : Exception
{
    public DataConnectionException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    public DataConnectionException()
        : this("The data connection failed")
    {
    }

    public DataConnectionException(string message)
        : this(message, null)
    {
    }
}

/// <summary>
/// The data connection as the transfer code sees it: counts bytes, tells the watchdog how long the current
/// read or write has been waiting for the client, and turns socket failures into
/// <see cref="DataConnectionException"/>. A clean end of stream (FIN) reads as 0 bytes; a reset throws — the
/// only way to tell an aborted STOR from a finished one (STOR has no length).
/// </summary>
internal sealed partial class DataConnectionStream(Stream inner, TimeProvider time) : Stream
{
    private const int CopyBufferSize = 128 * 1024;
    private const int LockUnlock = 8; // flock(2) LOCK_UN
    private const int SendFileChunk = CopyBufferSize; // the same progress for the data timeouts

    private long _bytes;
    private long _waitingSince; // 0 while no read or write is pending
    private long _waited; // timestamp ticks spent in finished reads and writes

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The user's bandwidth limit for this transfer's direction, if any; its waits are not the client's.</summary>
    public Users.TokenBucket? Throttle { get; init; }

    /// <summary>
    /// How long the pending read or write has waited for the client; zero when none is pending. Time the
    /// storage spends between reads (backpressure while S3 is slow) is not the client's idleness.
    /// </summary>
    public TimeSpan Waiting
    {
        get
        {
            var since = Interlocked.Read(ref _waitingSince);
            return since == 0 ? TimeSpan.Zero : time.GetElapsedTime(since);
        }
    }

    /// <summary>All the time reads and writes have waited for the client so far, the pending one included.</summary>
    public TimeSpan TotalWaiting => TimeSpan.FromSeconds(Interlocked.Read(ref _waited) / (double)time.TimestampFrequency) + Waiting;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => Bytes; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Interlocked.Exchange(ref _waitingSince, Math.Max(1, time.GetTimestamp()));
        try
        {
            var read = await inner.ReadAsync(Throttle is null ? buffer : buffer[..Math.Min(buffer.Length, 16 * 1024)], cancellationToken);
            Interlocked.Add(ref _bytes, read);
            EndWait();
            if (Throttle is not null && read > 0)
            {
                await Throttle.TakeAsync(read, cancellationToken);
            }

            return read;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw new DataConnectionException("The data connection was reset or broken while receiving", ex);
        }
        finally
        {
            EndWait();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Throttle is not null)
        {
            // In slices, so that several sessions of one user share the rate smoothly.
            while (buffer.Length > 16 * 1024)
            {
                await WriteAsync(buffer[..(16 * 1024)], cancellationToken);
                buffer = buffer[(16 * 1024)..];
            }

            await Throttle.TakeAsync(buffer.Length, cancellationToken);
        }

        Interlocked.Exchange(ref _waitingSince, Math.Max(1, time.GetTimestamp()));
        try
        {
            await inner.WriteAsync(buffer, cancellationToken);
            Interlocked.Add(ref _bytes, buffer.Length);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw new DataConnectionException("The data connection was reset or broken while sending", ex);
        }
        finally
        {
            EndWait();
        }
    }

    /// <summary>A download: <paramref name="source"/> to its end, by sendfile(2) where it can be, converted to CRLF in TYPE A.</summary>
    public async Task SendAsync(Stream source, bool ascii, CancellationToken cancellationToken)
    {
        if (!ascii && source is FileStream file && await TrySendFileAsync(file, cancellationToken))
        {
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        var converted = ascii ? ArrayPool<byte>.Shared.Rent(CopyBufferSize * 2) : null;
        try
        {
            var lastWasCr = false;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken)) > 0)
            {
                if (converted is null)
                {
                    await WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                else
                {
                    var n = AsciiConversion.ToNetwork(buffer.AsSpan(0, read), converted, ref lastWasCr);
                    await WriteAsync(converted.AsMemory(0, n), cancellationToken);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (converted is not null)
            {
                ArrayPool<byte>.Shared.Return(converted);
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="file"/> from its position to its end with sendfile(2), so its bytes never pass
    /// through the gateway's memory (about half the CPU of a read-and-send loop), where the connection allows it:
    /// plain TCP and no bandwidth limit. False when it does not (nothing sent). In pieces as large as a write of
    /// the copy loop, so the data timeouts see the same progress. Cancellation closes the connection.
    /// </summary>
    public async Task<bool> TrySendFileAsync(FileStream file, CancellationToken cancellationToken)
    {
        if (inner is not NetworkStream { Socket: var socket } || Throttle is not null || ReopenForSendFile(file) is not { } readable)
        {
            return false;
        }

        await using (readable)
        {
            using var args = new SocketAsyncEventArgs();
            await using var cancel = cancellationToken.Register(socket.Dispose);
            for (var offset = file.Position; readable.Length is var end && offset < end;) // to the end as it is now, as a read loop would
            {
                var count = (int)Math.Min(SendFileChunk, end - offset);
                Interlocked.Exchange(ref _waitingSince, Math.Max(1, time.GetTimestamp()));
                try
                {
                    args.SendPacketsElements = [new SendPacketsElement(readable, offset, count)];
                    var sent = await SendPacketsAsync(socket, args);
                    Interlocked.Add(ref _bytes, sent);
                    offset += sent;
                    if (sent < count)
                    {
                        break; // the file shrank meanwhile: what it holds now is sent
                    }
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new DataConnectionException("The data connection was reset or broken while sending", ex);
                }
                finally
                {
                    EndWait();
                }
            }
        }

        return true;
    }

    /// <summary>
    /// The same open file as one .NET lets sendfile(2) read (it asks for a handle opened for asynchronous I/O):
    /// reopened through /proc/self/fd, the very file whatever its path has become; null where that fails.
    /// </summary>
    private static FileStream? ReopenForSendFile(FileStream file)
    {
        var source = file.SafeFileHandle;
        var added = false;
        SafeFileHandle? handle = null;
        try
        {
            source.DangerousAddRef(ref added); // the fd number stays this file's while it is reopened
            handle = File.OpenHandle($"/proc/self/fd/{source.DangerousGetHandle()}", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
            _ = Flock(handle, LockUnlock); // .NET's shared lock would hold every APPE of the file until the download ends
            return new FileStream(handle, FileAccess.Read, bufferSize: 0, isAsync: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            handle?.Dispose();
            return null;
        }
        finally
        {
            if (added)
            {
                source.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle fd, int operation);

    private static Task<int> SendPacketsAsync(Socket socket, SocketAsyncEventArgs args)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Complete(object? sender, SocketAsyncEventArgs e)
        {
            e.Completed -= Complete;
            if (e.SocketError == SocketError.Success)
            {
                done.TrySetResult((int)e.BytesTransferred);
            }
            else
            {
                done.TrySetException(new SocketException((int)e.SocketError));
            }
        }

        args.Completed += Complete;
        if (!socket.SendPacketsAsync(args))
        {
            Complete(socket, args);
        }

        return done.Task;
    }

    private void EndWait()
    {
        var since = Interlocked.Exchange(ref _waitingSince, 0);
        if (since != 0)
        {
            Interlocked.Add(ref _waited, Math.Max(0, time.GetTimestamp() - since));
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await inner.FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw new DataConnectionException("The data connection was reset or broken while sending", ex);
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

using System.Net.Sockets;

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
internal sealed class DataConnectionStream(Stream inner, TimeProvider time) : Stream
{
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

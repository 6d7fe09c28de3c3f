namespace FtpGateway.Ftp.Checks;

/// <summary>
/// An upload's source seen by the checks on its way to the store: it counts the bytes, keeps the first ones for the
/// content-type check, and hands every chunk to the scanner (in order, before the store sees it). The verdict is
/// asked for at the commit point (<see cref="UploadVerdict"/>). It does not own the stream it reads; it owns the spool.
/// </summary>
internal sealed class CheckedUploadStream(Stream inner, ScanSession? scan, QuarantineSpool? spool = null) : Storage.ReadOnlyStream
{
    private readonly byte[] _head = new byte[ContentSignatures.HeadLength];
    private int _headLength;

    /// <summary>Bytes read so far.</summary>
    public long Bytes { get; private set; }

    /// <summary>The first bytes of the upload (up to <see cref="ContentSignatures.HeadLength"/>).</summary>
    public ReadOnlySpan<byte> Head => _head.AsSpan(0, _headLength);

    /// <summary>The scan of this upload, if any.</summary>
    public ScanSession? Scan => scan;

    /// <summary>The new bytes as scanned, kept for the quarantine target (<c>Scanning:QuarantineStorage</c>), if any.</summary>
    public QuarantineSpool? Spool => spool;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        if (n > 0)
        {
            if (_headLength < _head.Length)
            {
                var take = Math.Min(n, _head.Length - _headLength);
                buffer.Span[..take].CopyTo(_head.AsSpan(_headLength));
                _headLength += take;
            }

            Bytes += n;
            if (scan is not null)
            {
                await scan.WriteAsync(buffer[..n], cancellationToken);
                spool?.Write(buffer.Span[..n], scan.Scanning);
            }
        }

        return n;
    }

    // Not disposed with the upload: the data connection beneath belongs to the transfer runner, which closes it
    // (a TLS data connection's close_notify comes after the commit).
}

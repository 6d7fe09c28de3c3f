namespace FtpGateway.Ftp.Protocol;

/// <summary>
/// TYPE A line-ending conversion (RFC 959 §3.1.1.1): the network form ends lines with CRLF, the stored
/// form with LF. TYPE I (and sessions that never send TYPE) move bytes unchanged.
/// </summary>
internal static class AsciiConversion
{
    /// <summary>
    /// Stored → network: a LF not already preceded by CR becomes CRLF. <paramref name="output"/> needs
    /// twice the input's length. <paramref name="lastWasCr"/> carries state across chunks.
    /// </summary>
    public static int ToNetwork(ReadOnlySpan<byte> input, Span<byte> output, ref bool lastWasCr)
    {
        var o = 0;
        foreach (var b in input)
        {
            if (b == (byte)'\n' && !lastWasCr)
            {
                output[o++] = (byte)'\r';
            }

            output[o++] = b;
            lastWasCr = b == (byte)'\r';
        }

        return o;
    }
}

/// <summary>Network → stored for uploads in TYPE A: CRLF becomes LF; a CR not followed by LF is kept.</summary>
internal sealed class AsciiUploadStream(Stream inner) : Storage.ReadOnlyStream
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private bool _pendingCr;
    private bool _ended;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_ended)
            {
                if (_pendingCr && buffer.Length > 0)
                {
                    _pendingCr = false;
                    buffer.Span[0] = (byte)'\r';
                    return 1;
                }

                return 0;
            }

            // Reserve one byte of output for a CR held from the previous chunk.
            var want = Math.Min(_buffer.Length, Math.Max(1, buffer.Length - 1));
            var read = await inner.ReadAsync(_buffer.AsMemory(0, want), cancellationToken);
            if (read == 0)
            {
                _ended = true;
                continue;
            }

            var o = 0;
            var span = buffer.Span;
            for (var i = 0; i < read; i++)
            {
                var b = _buffer[i];
                if (_pendingCr)
                {
                    _pendingCr = false;
                    if (b != (byte)'\n')
                    {
                        span[o++] = (byte)'\r';
                    }
                }

                if (b == (byte)'\r')
                {
                    _pendingCr = true;
                }
                else
                {
                    span[o++] = b;
                }
            }

            if (o > 0)
            {
                return o;
            }
        }
    }
}

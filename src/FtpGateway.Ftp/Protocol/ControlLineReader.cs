using System.Buffers;
using System.Text;

namespace FtpGateway.Ftp.Protocol;

/// <summary>One command line as received: its text, or the fact that it was too long.</summary>
internal readonly record struct ControlLine(string Text, bool TooLong);

/// <summary>
/// Splits the control connection into command lines. Telnet commands (RFC 854) are removed, including the
/// IP/Synch pair clients send before ABOR (RFC 959 §4.1.3) whose urgent byte may be missing from the stream.
/// CR, LF and CRLF all end a line: a client that sends ABOR with MSG_OOB loses the LF to urgent data.
/// Lines are UTF-8 (RFC 2640); bytes that are not valid UTF-8 are read as Latin-1. A session waiting for its
/// next command holds no buffer: with nothing held (<see cref="HasInput"/>) it waits in
/// <see cref="WaitForInputAsync"/>, and takes pooled buffers only while bytes are there (ten thousand idle
/// sessions would otherwise hold 80 MiB of buffers).
/// </summary>
internal sealed class ControlLineReader
{
    private const int ReadSize = 4096;

    private const byte Iac = 255;
    private const byte TelnetWill = 251;
    private const byte TelnetDont = 254;
    private const byte TelnetFirstCommand = 240;
    private const byte TelnetDataMark = 242;

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    /// <summary>The logged-in user's legacy code page for command lines (file names); null: UTF-8.</summary>
    public Encoding? NameEncoding { get; set; }

    private readonly int _maxLength;
    private byte[]? _buffer;
    private byte[]? _line;
    private int _start;
    private int _end;
    private int _lineLength;
    private bool _overflow;
    private bool _afterCr;
    private int _telnet; // 0: data, 1: after IAC, 2: after IAC WILL/WONT/DO/DONT

    public ControlLineReader(int maxLength) => _maxLength = maxLength;

    /// <summary>
    /// Forgets every byte read but not yet returned as a line, and any partial line; returns how many there were.
    /// Bytes that came in clear text before a TLS handshake must never be run as commands after it (RFC 4217 §4;
    /// the CVE-2011-0411 class of command injection).
    /// </summary>
    public int DiscardBuffered()
    {
        var discarded = _end - _start + _lineLength;
        _start = _end = _lineLength = 0;
        _overflow = _afterCr = false;
        _telnet = 0;
        Return(ref _buffer);
        Return(ref _line);
        return discarded;
    }

    /// <summary>True while bytes read but not yet returned as a line, or part of a line, are held.</summary>
    public bool HasInput => _start < _end || _lineLength > 0;

    /// <summary>
    /// Waits for the client's next bytes or the end of the stream without holding a buffer: a zero-byte read,
    /// which completes when they are there and reads nothing; at once while input is held. It takes no
    /// cancellation token (an idle session's registration would be one more object per session): the session ends
    /// it by shutting the socket down, which on Linux completes a pending receive. The caller awaits it: a wait
    /// inside <see cref="ReadLineAsync"/> would keep that method's state machine alive while the session is idle.
    /// </summary>
    public ValueTask<int> WaitForInputAsync(Stream stream)
    {
        if (HasInput)
        {
            return ValueTask.FromResult(_end - _start + _lineLength);
        }

        Return(ref _buffer);
        Return(ref _line);
        return stream.ReadAsync(Memory<byte>.Empty, CancellationToken.None);
    }

    /// <summary>
    /// The next line, or null when the peer closed the connection. After <see cref="WaitForInputAsync"/> it waits
    /// only while part of a line has come; when the bytes were only line ends or Telnet commands it returns an
    /// empty line, which the session ignores, so that the wait for more is the caller's again.
    /// </summary>
    public async ValueTask<ControlLine?> ReadLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        var waited = !HasInput; // nothing held: the caller has just waited for these bytes
        while (true)
        {
            while (_start < _end)
            {
                var b = _buffer![_start++];
                if (TryConsume(b, out var line))
                {
                    SkipRestOfLineEnd(); // the LF of a CRLF that came with it: nothing is then held for the next wait
                    return line;
                }
            }

            if (_lineLength == 0 && !waited)
            {
                return new ControlLine(string.Empty, false); // only line ends or Telnet bytes: nothing to run yet
            }

            waited = false;
            _buffer ??= ArrayPool<byte>.Shared.Rent(ReadSize);
            var read = await stream.ReadAsync(_buffer.AsMemory(0, ReadSize), cancellationToken);
            if (read == 0)
            {
                Return(ref _buffer);
                Return(ref _line);
                return null;
            }

            _start = 0;
            _end = read;
        }
    }

    private void SkipRestOfLineEnd()
    {
        if (_afterCr && _start < _end && _buffer![_start] is (byte)'\n' or 0)
        {
            _start++;
            _afterCr = false;
        }
    }

    private static void Return(ref byte[]? buffer)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }
    }

    private bool TryConsume(byte b, out ControlLine line)
    {
        line = default;
        switch (_telnet)
        {
            case 1:
                _telnet = b is >= TelnetWill and <= TelnetDont ? 2 : 0;
                if (b == Iac)
                {
                    Append(Iac); // IAC IAC is a literal 255.
                    return false;
                }

                if (b >= TelnetFirstCommand)
                {
                    return false; // IP, DM, NOP, ...: dropped.
                }

                break; // A lone IAC whose command byte went out of band: drop the IAC, keep this byte.
            case 2:
                _telnet = 0; // option byte of a negotiation: dropped.
                return false;
        }

        if (b == Iac)
        {
            _telnet = 1;
            return false;
        }

        if (b == TelnetDataMark && _lineLength == 0 && !_overflow)
        {
            return false; // the DM of a Synch whose IAC went out of band: never part of a verb
        }

        if (_afterCr && (b == '\n' || b == 0))
        {
            _afterCr = false; // the rest of CRLF (or Telnet's CR NUL)
            return false;
        }

        _afterCr = b == '\r';
        if (b is (byte)'\r' or (byte)'\n')
        {
            line = TakeLine();
            return true;
        }

        Append(b);
        return false;
    }

    private void Append(byte b)
    {
        if (_lineLength < _maxLength)
        {
            _line ??= ArrayPool<byte>.Shared.Rent(_maxLength);
            _line[_lineLength++] = b;
        }
        else
        {
            _overflow = true;
        }
    }

    private ControlLine TakeLine()
    {
        var result = _overflow ? new ControlLine(string.Empty, true)
            : new ControlLine(NameEncoding?.GetString(_line.AsSpan(0, _lineLength)) ?? Decode(_line.AsSpan(0, _lineLength)), false);
        _lineLength = 0;
        _overflow = false;
        return result;
    }

    private static string Decode(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(bytes);
        }
    }
}

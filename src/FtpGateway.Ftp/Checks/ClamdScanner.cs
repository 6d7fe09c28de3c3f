using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FtpGateway.Ftp.Checks;

/// <summary>A scanner's verdict on one upload.</summary>
internal abstract record ScanVerdict
{
    public sealed record Clean : ScanVerdict;

    public sealed record Infected(string Signature) : ScanVerdict;

    /// <summary>The file is larger than the scanner's stream limit: it was not scanned whole.</summary>
    public sealed record OverLimit : ScanVerdict;

    /// <summary>The scanner could not be reached, failed, or did not answer in time.</summary>
    public sealed record Failed(string Reason) : ScanVerdict;
}

/// <summary>
/// clamd's INSTREAM (clamd(8)): a connection per upload, <c>zINSTREAM\0</c>, then each chunk as a 4-byte length in
/// network order and its bytes, a zero length at the end, and one answer: <c>stream: OK</c>,
/// <c>stream: &lt;signature&gt; FOUND</c> or <c>... ERROR</c> (<c>INSTREAM size limit exceeded</c> when the file is
/// larger than clamd's StreamMaxLength; clamd then closes the connection).
/// </summary>
internal sealed class ClamdScanner(EndPoint endPoint, TimeSpan timeout, TimeProvider time)
{
    /// <summary><c>tcp://host:port</c> or <c>unix:/path</c>; null when neither.</summary>
    public static EndPoint? ParseAddress(string address)
    {
        if (address.StartsWith("unix:", StringComparison.Ordinal) && address.Length > 5)
        {
            return new UnixDomainSocketEndPoint(address[5..]);
        }

        return Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme == "tcp" && uri.Port > 0 && !string.IsNullOrEmpty(uri.Host)
            ? IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? new IPEndPoint(ip, uri.Port) : new DnsEndPoint(uri.Host, uri.Port)
            : null;
    }

    public TimeSpan Timeout => timeout;

    /// <summary>Starts the scan of one upload; a scanner that cannot be reached gives a session whose verdict says so.</summary>
    public async Task<ScanSession> StartAsync(CancellationToken ct)
    {
        // A unix socket, or TCP over IPv4 or IPv6 (a dual-mode socket takes either).
        var socket = endPoint is UnixDomainSocketEndPoint ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var deadline = new CancellationTokenSource(timeout, time);
            using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            await socket.ConnectAsync(endPoint, both.Token);

            // Without it, the last chunk's small length prefix and the end marker wait for the previous segment's
            // delayed ACK (Nagle), up to 40 ms on Linux, on the way to the 226.
            if (socket.ProtocolType == ProtocolType.Tcp)
            {
                socket.NoDelay = true; // a unix socket has no such option (setting it at all fails there)
            }
            await socket.SendAsync("zINSTREAM\0"u8.ToArray(), SocketFlags.None, both.Token);
            return new ScanSession(socket, timeout, time, null);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            return new ScanSession(null, timeout, time, $"clamd at {endPoint} cannot be reached ({(ex is OperationCanceledException ? "timed out" : ex.Message)})");
        }
        catch
        {
            socket.Dispose(); // the transfer was cancelled
            throw;
        }
    }
}

/// <summary>
/// One upload's scan: its chunks go to clamd as they pass; the verdict comes at the commit point. clamd's answer is
/// read from the start, so an early one (its stream limit: it answers, then closes) is kept before the connection
/// resets, and nothing more is sent after it.
/// </summary>
internal sealed class ScanSession : IDisposable
{
    private const int MaxChunk = 64 * 1024;
    private readonly Socket? _socket;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly string? _failure;
    private readonly byte[] _length = new byte[4];
    private readonly CancellationTokenSource _reading = new();
    private readonly Task<string?> _answer;
    private bool _stopped;
    private bool _stalled;

    public ScanSession(Socket? socket, TimeSpan timeout, TimeProvider time, string? failure)
    {
        _socket = socket;
        _timeout = timeout;
        _time = time;
        _failure = failure;
        _answer = socket is null ? Task.FromResult<string?>(null) : ReadAnswerAsync(socket, _reading.Token);
    }

    /// <summary>Whether clamd still takes the stream (it has not answered early, gone away or stalled).</summary>
    public bool Scanning => _socket is not null && !_stopped && !_answer.IsCompleted;

    /// <summary>Sends a chunk; a scanner that answered early or went away stops the scan, never the upload (the verdict tells it).</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (_socket is null || _stopped || _answer.IsCompleted)
        {
            _stopped = true;
            return;
        }

        // A clamd that stops reading must not hold the upload: each write gets the scanner's timeout.
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            for (var offset = 0; offset < data.Length; offset += MaxChunk)
            {
                var chunk = data.Slice(offset, Math.Min(MaxChunk, data.Length - offset));
                BinaryPrimitives.WriteUInt32BigEndian(_length, (uint)chunk.Length);
                await _socket.SendAsync(_length, SocketFlags.None, both.Token);
                await _socket.SendAsync(chunk, SocketFlags.None, both.Token);
            }
        }
        catch (SocketException)
        {
            _stopped = true; // clamd closed: its answer, if it gave one, is already being read
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            _stopped = true;
            _stalled = true; // the verdict says so without waiting again
        }
    }

    /// <summary>The end of the stream, and clamd's answer within the timeout.</summary>
    public async Task<ScanVerdict> VerdictAsync(CancellationToken ct)
    {
        if (_socket is null)
        {
            return new ScanVerdict.Failed(_failure ?? "no scanner");
        }

        if (_stalled && !_answer.IsCompleted)
        {
            return new ScanVerdict.Failed($"clamd stopped reading the upload for {_timeout.TotalSeconds:0} s");
        }

        try
        {
            if (!_stopped && !_answer.IsCompleted)
            {
                using var deadline = new CancellationTokenSource(_timeout, _time);
                using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
                try
                {
                    await _socket.SendAsync(new byte[4], SocketFlags.None, both.Token); // the zero-length chunk: the end
                }
                catch (SocketException)
                {
                    // closed early: its answer is being read
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    return new ScanVerdict.Failed($"clamd stopped reading the upload for {_timeout.TotalSeconds:0} s");
                }
            }

            var answer = await _answer.WaitAsync(_timeout, _time, ct);
            return answer is null ? new ScanVerdict.Failed("clamd closed the connection without an answer") : Parse(answer);
        }
        catch (TimeoutException)
        {
            return new ScanVerdict.Failed($"clamd did not answer within {_timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Reads clamd's one answer (up to its NUL); null when the connection ended without one.</summary>
    private static async Task<string?> ReadAnswerAsync(Socket socket, CancellationToken ct)
    {
        var answer = new List<byte>(128);
        var buffer = new byte[256];
        try
        {
            while (answer.Count <= 4096)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
                if (n == 0)
                {
                    break;
                }

                answer.AddRange(buffer.AsSpan(0, n));
                if (answer.Contains(0))
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // what arrived before the reset is the answer, if anything did
        }

        return answer.Count == 0 ? null : Encoding.ASCII.GetString([.. answer]).TrimEnd('\0', '\n');
    }

    /// <summary>clamd's answer: <c>stream: OK</c>, <c>stream: Sig FOUND</c>, <c>INSTREAM size limit exceeded. ERROR</c>, <c>... ERROR</c>.</summary>
    internal static ScanVerdict Parse(string answer)
    {
        if (answer.EndsWith(" FOUND", StringComparison.Ordinal))
        {
            var body = answer.StartsWith("stream: ", StringComparison.Ordinal) ? answer["stream: ".Length..] : answer;
            var signature = body[..^" FOUND".Length].Trim();

            // With AlertExceedsMax clamd reports a file beyond MaxFileSize or MaxScanSize as a "finding": not scanned whole.
            return signature.StartsWith("Heuristics.Limits.Exceeded", StringComparison.Ordinal) ? new ScanVerdict.OverLimit() : new ScanVerdict.Infected(signature);
        }

        if (answer.EndsWith(": OK", StringComparison.Ordinal) || answer == "stream: OK")
        {
            return new ScanVerdict.Clean();
        }

        return answer.Contains("size limit exceeded", StringComparison.OrdinalIgnoreCase)
            ? new ScanVerdict.OverLimit()
            : new ScanVerdict.Failed(answer.Length == 0 ? "clamd closed the connection without an answer" : $"clamd: {answer}");
    }

    public void Dispose()
    {
        _reading.Cancel();
        _socket?.Dispose();
        _reading.Dispose();
    }
}

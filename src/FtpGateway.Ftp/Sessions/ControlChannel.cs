using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using FtpGateway.Ftp.Protocol;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Sessions;

/// <summary>
/// The control connection: command lines in, replies out through one writer (so replies of the command loop
/// and of a background transfer never interleave), the TLS upgrade, and whether the client is still there.
/// </summary>
internal sealed class ControlChannel : IAsyncDisposable
{
    private const int WriteChunk = 16 * 1024;
    private static readonly Encoding Utf8 = new UTF8Encoding(false);

    private readonly Socket _socket;
    private readonly ControlLineReader _reader;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Stream _stream;
    private volatile bool _clearText = true; // until a TLS handshake starts: then every byte goes through the stream

    public ControlChannel(Socket socket, int maxLineLength, ILogger logger)
    {
        _socket = socket;

        // RFC 959 §4.1.3: before ABOR, a classic client sends Telnet IP and Synch with the urgent pointer set. Read
        // in band, its urgent byte stays where the client put it, so the reader sees the whole Telnet sequence.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.OutOfBandInline, true);
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new ControlLineReader(maxLineLength);
        _logger = logger;
    }

    /// <summary>The code page of command lines and replies (a device's legacy file-name encoding); null: UTF-8.</summary>
    public Encoding? NameEncoding
    {
        get => _reader.NameEncoding;
        set => _reader.NameEncoding = value;
    }

    /// <summary>Waits for the client's next bytes holding nothing, unless input is held (<see cref="ControlLineReader.WaitForInputAsync"/>); <see cref="Shutdown"/> ends it.</summary>
    public ValueTask<int> WaitForInputAsync() => _reader.WaitForInputAsync(_stream);

    /// <summary>The next command line; null when the client closed the connection.</summary>
    public ValueTask<ControlLine?> ReadLineAsync(CancellationToken ct) => _reader.ReadLineAsync(_stream, ct);

    /// <summary>Writes a reply (RFC 959 §4.2): one line, or a multi-line reply whose streamed body is written as it comes.</summary>
    public async Task WriteAsync(FtpReply reply, CancellationToken ct = default)
    {
        await _writeLock.WaitAsync(ct);
        try
        {
            var text = new StringBuilder();
            var lines = reply.Lines;
            if (lines.Count > 1)
            {
                // The first line carries "code-", the last "code "; the lines between start with a space, so
                // that none of them can be mistaken for the last one.
                text.Append(reply.Code).Append('-').Append(Clean(lines[0])).Append("\r\n");
                await foreach (var line in (reply.Body ?? AsyncEnumerable.Empty<string>()).WithCancellation(ct))
                {
                    text.Append(' ').Append(Clean(line)).Append("\r\n");
                    if (text.Length >= WriteChunk)
                    {
                        await SendAsync(text, ct);
                    }
                }

                foreach (var line in lines.Skip(1).SkipLast(1))
                {
                    text.Append(' ').Append(Clean(line).TrimStart(' ')).Append("\r\n");
                }
            }

            text.Append(reply.Code).Append(' ').Append(Clean(lines[^1])).Append("\r\n");
            Log.Reply(_logger, reply.Code, Clean(lines[^1]));
            await SendAsync(text, ct);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// A reply line can never carry a line break or a NUL of its own: whatever put one there (a file name from
    /// a store, an argument echoed back), it could otherwise inject replies a client would act on.
    /// </summary>
    private static string Clean(string line) =>
        line.AsSpan().IndexOfAny('\r', '\n', '\0') < 0 ? line : line.Replace('\r', '?').Replace('\n', '?').Replace('\0', '?');

    /// <summary>
    /// Sends the text. In clear text, what the socket's buffer takes at once goes out in one system call, without an
    /// asynchronous send: a socket that never makes one never keeps its send state (0.3 KiB per idle session).
    /// Only a reply the buffer cannot take, from a client that does not read, waits asynchronously.
    /// </summary>
    private async Task SendAsync(StringBuilder text, CancellationToken ct)
    {
        var bytes = (NameEncoding ?? Utf8).GetBytes(text.ToString());
        text.Clear();
        ct.ThrowIfCancellationRequested();
        var sent = _clearText ? PeerSocket.SendWithoutWaiting(_socket, bytes) : 0;
        if (sent < bytes.Length)
        {
            await _stream.WriteAsync(bytes.AsMemory(sent), ct);
            await _stream.FlushAsync(ct);
        }
    }

    /// <summary>
    /// Runs the TLS handshake as server (after 234 was sent); false when it failed and the session must end.
    /// Anything the client sent in clear text behind AUTH TLS is dropped first: only what arrives inside TLS is run.
    /// </summary>
    public async Task<bool> UpgradeToTlsAsync(SslServerAuthenticationOptions options, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        if (_reader.DiscardBuffered() is > 0 and var discarded)
        {
            Log.ClearTextDiscarded(_logger, discarded);
        }

        _clearText = false; // a reply sent meanwhile (a timeout's 421) queues behind the handshake's own writes
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        try
        {
            using var deadline = new CancellationTokenSource(timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, ct);
            await ssl.AuthenticateAsServerAsync(options, linked.Token);
            _stream = ssl;
            return true;
        }
        catch (Exception ex)
        {
            // After the 234 nothing can be answered in clear text: whatever went wrong, the session ends.
            Log.TlsFailed(_logger, ex);
            await ssl.DisposeAsync();
            return false;
        }
    }

    /// <summary>
    /// True when the client has closed or reset the connection, checked without consuming input: one
    /// non-blocking peek at the head of the receive queue, which is the end of the stream (0) only when the
    /// peer's FIN is all that is left, and fails only after a reset. One system call, so the command loop's own
    /// read can never take a command's bytes between two looks and make a client that is still there look gone
    /// (as <c>Poll</c> then <c>Available</c> could: a device that closes the data connection and sends QUIT at once).
    /// </summary>
    public bool IsLost()
    {
        try
        {
            return PeerSocket.HasClosed(_socket);
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>Closes both directions: the command loop's pending read ends.</summary>
    public void Shutdown()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
        _writeLock.Dispose();
    }
}

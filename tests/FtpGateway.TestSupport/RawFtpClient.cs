using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace FtpGateway.TestSupport;

/// <summary>How <see cref="RawFtpClient"/> opens a data connection: EPSV, PASV, or PORT (active).</summary>
public enum DataMode
{
    Epsv,
    Pasv,
    Port,
}

/// <summary>One reply as read off the wire: the code, and every line of it (multi-line replies have several).</summary>
public sealed record WireReply(int Code, IReadOnlyList<string> Lines)
{
    public string Text => string.Join("\n", Lines);

    public string Message => Lines[^1].Length > 4 ? Lines[^1][4..] : string.Empty;

    public override string ToString() => Text;
}

/// <summary>
/// A deliberately plain FTP client over a raw socket, for edge cases real clients never produce:
/// it sends exactly the bytes it is given and reads replies as the RFC defines them.
/// </summary>
public sealed partial class RawFtpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[8192];
    private readonly StringBuilder _pending = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private RawFtpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public Socket Socket => _tcp.Client;

    public WireReply Greeting { get; private set; } = new(0, []);

    /// <summary>
    /// Connects (from <paramref name="from"/>, another loopback address such as 127.0.0.2, when given), sends
    /// <paramref name="prefix"/> first when given (a PROXY protocol header), and reads the greeting.
    /// </summary>
    public static async Task<RawFtpClient> ConnectAsync(int port, IPAddress? address = null, IPAddress? from = null, byte[]? prefix = null)
    {
        var tcp = from is null ? new TcpClient(AddressFamily.InterNetwork) : new TcpClient(new IPEndPoint(from, 0));
        tcp.NoDelay = true;
        await tcp.ConnectAsync(address ?? IPAddress.Loopback, port);
        var client = new RawFtpClient(tcp);
        if (prefix is not null)
        {
            await client.SendRawAsync(prefix);
        }

        client.Greeting = await client.ReadReplyAsync();
        return client;
    }

    public static async Task<RawFtpClient> LoginAsync(int port, string user = TestServer.UserName, string password = TestServer.Password, IPAddress? from = null)
    {
        var client = await ConnectAsync(port, from: from);
        await client.ExpectAsync("USER " + user, 331);
        await client.ExpectAsync("PASS " + password, 230);
        return client;
    }

    public async Task<WireReply> SendAsync(string command)
    {
        await SendRawAsync(Encoding.UTF8.GetBytes(command + "\r\n"));
        return await ReadReplyAsync();
    }

    public async Task<WireReply> ExpectAsync(string command, int code)
    {
        var reply = await SendAsync(command);
        if (reply.Code != code)
        {
            throw new InvalidOperationException($"'{command}' answered {reply} instead of {code}");
        }

        return reply;
    }

    public async Task SendRawAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Reads one whole reply, multi-line replies included (RFC 959 §4.2).</summary>
    public async Task<WireReply> ReadReplyAsync(TimeSpan? timeout = null)
    {
        var first = await ReadLineAsync(timeout);
        if (first.Length < 4 || !int.TryParse(first.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            throw new InvalidDataException($"Not a reply: '{first}'");
        }

        var lines = new List<string> { first };
        if (first[3] == '-')
        {
            var end = first[..3] + " ";
            string line;
            do
            {
                line = await ReadLineAsync();
                lines.Add(line);
            }
            while (!line.StartsWith(end, StringComparison.Ordinal));
        }

        return new WireReply(code, lines);
    }

    /// <summary>True when the server closed the control connection (reads to EOF, with a timeout).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            while (true)
            {
                var n = await _stream.ReadAsync(_buffer, cts.Token);
                if (n == 0)
                {
                    return true;
                }
            }
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<string> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        while (true)
        {
            var text = _pending.ToString();
            var eol = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (eol >= 0)
            {
                _pending.Remove(0, eol + 2);
                return text[..eol];
            }

            var n = await _stream.ReadAsync(_buffer, cts.Token);
            if (n == 0)
            {
                throw new EndOfStreamException("The server closed the control connection");
            }

            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, n));
        }
    }

    /// <summary>EPSV, then connects to the announced port.</summary>
    public async Task<Socket> OpenPassiveAsync()
    {
        var reply = await ExpectAsync("EPSV", 229);
        var port = int.Parse(EpsvPort().Match(reply.Text).Groups[1].Value, CultureInfo.InvariantCulture);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return socket;
    }

    /// <summary>PASV, parsing h1..p2, then connects.</summary>
    public async Task<Socket> OpenPasvAsync()
    {
        var reply = await ExpectAsync("PASV", 227);
        var m = PasvNumbers().Match(reply.Text);
        var n = Enumerable.Range(1, 6).Select(i => int.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture)).ToArray();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPAddress([(byte)n[0], (byte)n[1], (byte)n[2], (byte)n[3]]), (n[4] << 8) | n[5]);
        return socket;
    }

    /// <summary>Runs a download-style command and returns the data plus the final reply.</summary>
    public async Task<(byte[] Data, WireReply Final)> DownloadAsync(string command, DataMode mode = DataMode.Epsv)
    {
        await using var data = await OpenDataAsync(mode);
        var first = await SendAsync(command);
        if (first.Code != 150 && first.Code != 125)
        {
            return ([], first);
        }

        using var socket = await data.ConnectedAsync();
        var bytes = await ReadToEndAsync(socket);
        return (bytes, await ReadReplyAsync());
    }

    /// <summary>Runs an upload-style command, sends the bytes, closes cleanly, returns the final reply.</summary>
    public async Task<WireReply> UploadAsync(string command, byte[] content, DataMode mode = DataMode.Epsv)
    {
        await using var data = await OpenDataAsync(mode);
        var first = await SendAsync(command);
        if (first.Code != 150 && first.Code != 125)
        {
            return first;
        }

        using var socket = await data.ConnectedAsync();
        await socket.SendAsync(content);
        socket.Shutdown(SocketShutdown.Send);
        socket.Close();
        return await ReadReplyAsync();
    }

    /// <summary>
    /// Prepares a data connection: passive modes connect at once; active mode (PORT) listens on loopback and
    /// accepts the server's connection once the transfer command was sent.
    /// </summary>
    private async Task<DataConnection> OpenDataAsync(DataMode mode)
    {
        switch (mode)
        {
            case DataMode.Epsv:
                return new DataConnection(await OpenPassiveAsync(), null);
            case DataMode.Pasv:
                return new DataConnection(await OpenPasvAsync(), null);
            default:
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start(1);
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                var reply = await SendAsync(string.Create(CultureInfo.InvariantCulture, $"PORT 127,0,0,1,{port >> 8},{port & 255}"));
                if (reply.Code != 200)
                {
                    listener.Dispose();
                    throw new InvalidOperationException("PORT refused: " + reply);
                }

                return new DataConnection(null, listener);
        }
    }

    private sealed class DataConnection(Socket? connected, TcpListener? listener) : IAsyncDisposable
    {
        public async Task<Socket> ConnectedAsync()
        {
            if (connected is not null)
            {
                return connected;
            }

            using var cts = new CancellationTokenSource(Timeout);
            return connected = await listener!.AcceptSocketAsync(cts.Token);
        }

        public ValueTask DisposeAsync()
        {
            connected?.Dispose();
            listener?.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    public async Task<string> ListAsync(string command, DataMode mode = DataMode.Epsv) => Encoding.UTF8.GetString((await DownloadAsync(command, mode)).Data);

    public static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[64 * 1024];
        using var cts = new CancellationTokenSource(Timeout);
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            ms.Write(buffer, 0, n);
        }

        return ms.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }

    [GeneratedRegex(@"\(\|\|\|(\d+)\|\)")]
    private static partial Regex EpsvPort();

    [GeneratedRegex(@"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)")]
    private static partial Regex PasvNumbers();
}

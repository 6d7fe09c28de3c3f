using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FtpGateway.Benchmarks;

/// <summary>
/// The benchmark's client for many small operations: blocking sockets on the calling thread, no thread pool,
/// no spinning, so that on a 2-core machine its own cost stays out of the server's way (the same for every server).
/// </summary>
internal sealed class BlockingFtpClient : IDisposable
{
    private readonly Socket _control = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private readonly byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    private BlockingFtpClient(int port)
    {
        try
        {
            _control.Connect(IPAddress.Loopback, port);
            _control.ReceiveTimeout = (int)GreetingTimeout.TotalMilliseconds;
            Expect(null, 220);
            _control.ReceiveTimeout = (int)ReplyTimeout.TotalMilliseconds;
        }
        catch
        {
            _control.Dispose();
            throw;
        }
    }

    /// <summary>
    /// How long a connection waits for the greeting before it connects again. With 200 clients connecting at once,
    /// a full accept queue can drop the handshake's last ACK: the client sees the connection established, the server
    /// never accepts it, and as the server speaks first, a client without a timeout waits for ever (seen with
    /// pure-ftpd). A real device times out and connects again; so does this client, and says so.
    /// </summary>
    private static readonly TimeSpan GreetingTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Any other reply that takes longer fails the run instead of hanging it.</summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(2);

    public static BlockingFtpClient LogIn(FtpTarget target)
    {
        var client = Connect(target.Port);
        try
        {
            client.Expect("USER " + target.User, 331);
            client.Expect("PASS " + target.Password, 230);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static BlockingFtpClient Connect(int port)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return new BlockingFtpClient(port);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut && attempt < 3)
            {
                Console.WriteLine($"  (port {port}: the connection or its greeting timed out, connecting again)");
            }
        }
    }

    /// <summary>Sends <paramref name="command"/> (or nothing) and reads the reply, which must have <paramref name="code"/>.</summary>
    public string Expect(string? command, int code)
    {
        if (command is not null)
        {
            _control.Send(Encoding.UTF8.GetBytes(command + "\r\n"));
        }

        while (true)
        {
            var line = ReadLine();
            if (line.Length >= 4 && line[3] == ' ' && int.TryParse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var got))
            {
                return got == code ? line : throw new InvalidOperationException($"{command} answered {line}");
            }
        }
    }

    /// <summary>EPSV, connect, STOR, send, close, 226.</summary>
    public void Store(string name, byte[] content) => Store(name, content, EpsvPort());

    /// <summary>What Python's ftplib sends for each <c>storbinary</c>: TYPE I, PASV, connect, STOR, send, close, 226.</summary>
    public void StoreLikeFtplib(string name, byte[] content)
    {
        Expect("TYPE I", 200);
        var reply = Expect("PASV", 227);
        var numbers = reply[(reply.IndexOf('(', StringComparison.Ordinal) + 1)..reply.IndexOf(')', StringComparison.Ordinal)].Split(',');
        Store(name, content, (int.Parse(numbers[4], CultureInfo.InvariantCulture) * 256) + int.Parse(numbers[5], CultureInfo.InvariantCulture));
    }

    private int EpsvPort() => int.Parse(Expect("EPSV", 229).Split("|||")[1].Split('|')[0], CultureInfo.InvariantCulture);

    private void Store(string name, byte[] content, int port)
    {
        using var data = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        data.Connect(IPAddress.Loopback, port);
        Expect("STOR " + name, 150);
        data.Send(content);
        data.Shutdown(SocketShutdown.Send);
        data.Close();
        Expect(null, 226);
    }

    public void Dispose() => _control.Dispose();

    private string ReadLine()
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = Encoding.UTF8.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }

            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            (_end, _start) = (_end - _start, 0);
            var read = _control.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
            _end += read > 0 ? read : throw new EndOfStreamException("The server closed the control connection");
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FtpGateway.TestSupport;

/// <summary>
/// Debian's redis-server for a test, on a free port of loopback, with nothing saved to disk: started, killed (an
/// outage: connections refused) and started again on the same port (an empty Redis, as after a failover without
/// persistence).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _password;
    private ExternalProcess.Running? _process;

    private RedisServer(int port, string password)
    {
        Port = port;
        _password = password;
    }

    public int Port { get; }

    /// <summary>The State:Redis:Configuration that reaches it.</summary>
    public string Configuration => $"127.0.0.1:{Port},password={_password}";

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(FreePorts.One(), Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)));
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts it (again) on its port and waits until it answers PING.</summary>
    public async Task StartAgainAsync()
    {
        _process = await ExternalProcess.StartAsync(ExternalProcess.Require("redis-server"),
        [
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no",
            "--daemonize", "no", "--requirepass", _password, "--dir", Path.GetTempPath(),
        ]);
        await Poll.UntilAsync(async () => await CommandAsync("PING") == "+PONG", $"redis-server on port {Port}" + Environment.NewLine + _process.Output);
    }

    /// <summary>Kills it: every connection to it is refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Sends one inline command (after AUTH) and returns the first line of the answer; null when it does not answer.</summary>
    public async Task<string?> CommandAsync(string command)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, Port);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTH {_password}\r\n{command}\r\n"));
            var auth = await reader.ReadLineAsync();
            return auth == "+OK" ? await reader.ReadLineAsync() : auth;
        }
        catch (SocketException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace FtpGateway.TestSupport;

/// <summary>
/// Debian's clamd for a test, on a free loopback port, with a signature database the test writes (no virus
/// definitions are downloaded): the EICAR test file as a hash signature, and a custom body signature that matches
/// <see cref="CustomMarker"/> anywhere in a file. Its stream limit is small (<see cref="StreamLimit"/>) so that
/// the over-limit case is cheap to reach. Stopped (an outage) and started again on the same port.
/// </summary>
public sealed class ClamdServer : IAsyncDisposable
{
    /// <summary>The EICAR anti-virus test file: every scanner reports it, it harms nothing.</summary>
    public const string Eicar = @"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

    /// <summary>Bytes the custom signature FtpGateway.Test.Marker finds anywhere in a file.</summary>
    public const string CustomMarker = "FTPGATEWAY-TEST-MALWARE-MARKER-7f3a9c";

    /// <summary>clamd's StreamMaxLength here: a larger stream is refused as over the limit.</summary>
    public const int StreamLimit = 4 * 1024 * 1024;

    private readonly TempDirectory _work = new();
    private ExternalProcess.Running? _process;

    private readonly int _streamLimit;

    private ClamdServer(int port, int streamLimit)
    {
        Port = port;
        _streamLimit = streamLimit;
    }

    public int Port { get; }

    /// <summary>Scanning:Clamd:Address for it.</summary>
    public string Address => $"tcp://127.0.0.1:{Port}";

    /// <summary>Its unix socket, as Scanning:Clamd:Address (clamd listens on both).</summary>
    public string UnixAddress => $"unix:{_work.File("clamd.sock")}";

    /// <param name="streamLimit">clamd's StreamMaxLength (the benchmark scans 1 GiB).</param>
    public static async Task<ClamdServer> StartAsync(int streamLimit = StreamLimit)
    {
        var server = new ClamdServer(FreePorts.One(), streamLimit);
        var db = Directory.CreateDirectory(server._work.File("db")).FullName;
        var eicar = Encoding.ASCII.GetBytes(Eicar);
#pragma warning disable CA5351 // clamd's hash signatures are MD5 by format
        await File.WriteAllTextAsync(Path.Combine(db, "ftpgateway-tests.hdb"), $"{Convert.ToHexStringLower(MD5.HashData(eicar))}:{eicar.Length}:Eicar-Test-Signature\n");
#pragma warning restore CA5351
        await File.WriteAllTextAsync(Path.Combine(db, "ftpgateway-tests.ndb"), $"FtpGateway.Test.Marker:0:*:{Convert.ToHexStringLower(Encoding.ASCII.GetBytes(CustomMarker))}\n");
        await File.WriteAllTextAsync(server._work.File("clamd.conf"), $"""
            Foreground yes
            TCPSocket {server.Port}
            TCPAddr 127.0.0.1
            LocalSocket {server._work.File("clamd.sock")}
            DatabaseDirectory {db}
            StreamMaxLength {server._streamLimit}
            MaxFileSize {server._streamLimit}
            MaxScanSize {server._streamLimit}
            TemporaryDirectory {(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath())}
            MaxThreads 4
            LogFile {server._work.File("clamd.log")}
            PidFile {server._work.File("clamd.pid")}
            """);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts clamd (again) and waits until it answers PING.</summary>
    public async Task StartAgainAsync()
    {
        _process = await ExternalProcess.StartAsync(ExternalProcess.Require("clamd"), ["--config-file", _work.File("clamd.conf")]);
        await Poll.UntilAsync(async () => await PingAsync(), $"clamd on port {Port}", TimeSpan.FromSeconds(60));
    }

    /// <summary>Kills it: connections are refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, Port);
            await socket.SendAsync("zPING\0"u8.ToArray());
            var buffer = new byte[16];
            var n = await socket.ReceiveAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _work.Dispose();
    }
}

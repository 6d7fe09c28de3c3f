using System.Net;
using System.Net.Sockets;

namespace FtpGateway.TestSupport;

/// <summary>
/// Free loopback ports, found by binding (the only reliable probe), below the kernel's ephemeral range. A port
/// handed out here is released before its server binds it, and some tests point clients at one that nothing ever
/// listens on; in the ephemeral range the kernel could meanwhile give it to a gateway's passive listener (they bind
/// port 0), and a readiness probe or a retrying exporter would then take that transfer's data connection (its
/// address is the client's, 127.0.0.1) and the real client's would be reset. A port is handed out once per machine
/// at a time: this process holds a lock on a file named after it (in /tmp/ftpgw-test-ports) until it exits, so
/// neither a later call here nor another test process can take it before its server binds it.
/// </summary>
public static class FreePorts
{
    private const int First = 20000;
    private static readonly int EphemeralStart = ReadEphemeralStart();
    private static readonly string LockDirectory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ftpgw-test-ports")).FullName;
    private static readonly Dictionary<int, FileStream> HandedOut = [];

    public static int One() => Range(1);

    /// <summary>
    /// The first of <paramref name="count"/> consecutive free ports, all between <paramref name="from"/> and
    /// <paramref name="to"/> (inclusive), none handed out before: from a random start, then every start after it.
    /// </summary>
    public static int Range(int count, int from = First, int? to = null)
    {
        var last = to ?? EphemeralStart - 1;
        var starts = last - count + 2 - from;
        var offset = Random.Shared.Next(starts);
        lock (HandedOut)
        {
            for (var i = 0; i < starts; i++)
            {
                var start = from + ((offset + i) % starts);
                if (!Enumerable.Range(start, count).Any(HandedOut.ContainsKey) && AllFree(start, count) && TryReserve(start, count))
                {
                    return start;
                }
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free ports left between {from} and {last} ({HandedOut.Count} handed out)");
    }

    private static bool TryReserve(int start, int count)
    {
        var locks = new List<(int Port, FileStream Lock)>();
        try
        {
            for (var port = start; port < start + count; port++)
            {
                // FileShare.None is an exclusive flock(2): the kernel drops it when this process exits.
                locks.Add((port, new FileStream(Path.Combine(LockDirectory, port.ToString(System.Globalization.CultureInfo.InvariantCulture)), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)));
            }
        }
        catch (IOException)
        {
            locks.ForEach(l => l.Lock.Dispose()); // another test process holds one of them
            return false;
        }

        locks.ForEach(l => HandedOut.Add(l.Port, l.Lock));
        return true;
    }

    private static bool AllFree(int start, int count)
    {
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(s);
                s.Bind(new IPEndPoint(IPAddress.Loopback, start + i));
            }

            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    /// <summary>The first port the kernel may pick for a bind to port 0 (Linux's default is 32768).</summary>
    private static int ReadEphemeralStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        var start = File.Exists(range) ? int.Parse(File.ReadAllText(range).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture) : 32768;
        return start > First + 4096
            ? start
            : throw new InvalidOperationException($"The kernel's ephemeral ports start at {start} ({range}): tests need ports {First}-{First + 4096} outside that range");
    }

    /// <summary>
    /// Waits until something accepts connections on <paramref name="port"/>. <paramref name="gone"/> names why
    /// waiting is pointless (the server process exited), or returns null to go on waiting.
    /// </summary>
    public static async Task WaitForListenerAsync(int port, TimeSpan timeout, Func<string?>? gone = null, IPAddress? address = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!IsListening(port, address))
        {
            if (gone?.Invoke() is { } reason)
            {
                throw new InvalidOperationException($"{reason} before listening on {port}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Nothing listens on {port} after {timeout.TotalSeconds:F0} s");
            }

            await Task.Delay(50);
        }
    }

    public static bool IsListening(int port, IPAddress? address = null)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(address ?? IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

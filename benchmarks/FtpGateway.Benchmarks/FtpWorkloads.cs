using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// What the benchmark does to an FTP server, the same to the gateway and to its peers. Large files go through
/// curl (a real client, whose cost is the same for both); many small operations go through a plain client whose
/// own cost is negligible, so that the server's cost is what is measured.
/// </summary>
internal static partial class FtpWorkloads
{
    public const int SmallFileSize = 4096;

    /// <summary>
    /// STOR of a large file with curl, in MB/s; with TLS: explicit FTPS with a protected data connection. Untimed
    /// before it: <c>sync</c>, and the previous round's upload deleted, so that every server stores into a free
    /// name with the old file's memory just freed (the object-store sections' peers delete theirs too). Replacing
    /// the file instead favoured a server that truncates in place: this benchmark's machine hands memory that sat
    /// free back to its host, and the gateway, which writes a new file before it frees the old one, then waited for
    /// the host to fault those pages in again (README, Benchmark, "Memory the host takes back").
    /// </summary>
    public static async Task<double> StorAsync(FtpTarget target, string file, string name, bool tls = false, CpuMeter.Side? cpu = null)
    {
        await SyncAsync();
        await DeleteAsync(target, name);
        var size = new FileInfo(file).Length;
        return size / 1e6 / await CpuMeter.MeasureAsync(cpu, CpuMeter.GiB(size), () => Curl.TimeAsync([.. TlsArgs(tls), "-sS", "-T", file, $"{target.Url}/{name}"]));
    }

    /// <summary>
    /// Writes every dirty page back (sync(1)), so that no round of a large upload starts behind another's: the
    /// kernel throttles a writer once the dirty pages pass its threshold, and back-to-back rounds of 1 GiB outrun
    /// this machine's disk (300–350 MB/s once its cache is full).
    /// </summary>
    public static async Task SyncAsync()
    {
        using var sync = Process.Start("sync") ?? throw new InvalidOperationException("sync did not start");
        await sync.WaitForExitAsync();
        if (sync.ExitCode != 0)
        {
            throw new InvalidOperationException($"sync failed ({sync.ExitCode})");
        }
    }

    /// <summary>DELE of <paramref name="name"/>: gone (250) or not there (550, before the first round).</summary>
    public static async Task DeleteAsync(FtpTarget target, string name)
    {
        await using var client = await RawFtpClient.LoginAsync(target.Port, target.User, target.Password);
        var reply = await client.SendAsync($"DELE {name}");
        if (reply.Code is not (250 or 550))
        {
            throw new InvalidOperationException($"DELE {name} answered {reply}");
        }
    }

    /// <summary>RETR of a large file with curl into /dev/null, in MB/s.</summary>
    public static async Task<double> RetrAsync(FtpTarget target, string name, long size, bool tls = false, CpuMeter.Side? cpu = null) =>
        size / 1e6 / await CpuMeter.MeasureAsync(cpu, CpuMeter.GiB(size), () => Curl.TimeAsync([.. TlsArgs(tls), "-sS", "-o", "/dev/null", $"{target.Url}/{name}"]));

    private static string[] TlsArgs(bool tls) => tls ? ["--ssl-reqd", "--insecure"] : [];

    /// <summary>One LIST of <paramref name="directory"/>: seconds to the first byte and to the end, and the lines.</summary>
    public static async Task<(double FirstByte, double Total, long Lines)> ListAsync(FtpTarget target, string directory, string verb = "LIST")
    {
        await using var client = await RawFtpClient.LoginAsync(target.Port, target.User, target.Password);
        var reply = await client.ExpectAsync("EPSV", 229);
        using var data = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await data.ConnectAsync(IPAddress.Loopback, int.Parse(EpsvPort().Match(reply.Text).Groups[1].Value, CultureInfo.InvariantCulture));
        var clock = Stopwatch.StartNew();
        var opening = await client.SendAsync($"{verb} {directory}");
        if (opening.Code is not (150 or 125))
        {
            throw new InvalidOperationException($"{verb} answered {opening}");
        }

        var buffer = new byte[256 * 1024];
        double firstByte = -1;
        long lines = 0;
        int n;
        while ((n = await data.ReceiveAsync(buffer)) > 0)
        {
            if (firstByte < 0)
            {
                firstByte = clock.Elapsed.TotalSeconds;
            }

            lines += buffer.AsSpan(0, n).Count((byte)'\n');
        }

        var total = clock.Elapsed.TotalSeconds;
        var done = await client.ReadReplyAsync(TimeSpan.FromMinutes(10));
        return done.Code == 226 ? (firstByte, total, lines) : throw new InvalidOperationException($"{verb} ended with {done}");
    }

    /// <summary>
    /// STOR of <paramref name="bytes"/> generated on the fly (nothing on disk: a 4 GiB upload needs no 4 GiB file),
    /// in MB/s.
    /// </summary>
    public static async Task<double> StreamUploadAsync(FtpTarget target, string name, long bytes)
    {
        await using var client = await RawFtpClient.LoginAsync(target.Port, target.User, target.Password);
        await client.ExpectAsync("TYPE I", 200);
        var reply = await client.ExpectAsync("EPSV", 229);
        using var data = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await data.ConnectAsync(IPAddress.Loopback, int.Parse(EpsvPort().Match(reply.Text).Groups[1].Value, CultureInfo.InvariantCulture));
        var clock = Stopwatch.StartNew();
        await client.ExpectAsync("STOR " + name, 150);
        var chunk = new byte[1024 * 1024];
        Random.Shared.NextBytes(chunk);
        for (long sent = 0; sent < bytes; sent += chunk.Length)
        {
            chunk[0]++;
            await data.SendAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, bytes - sent)));
        }

        data.Shutdown(SocketShutdown.Send);
        data.Close();
        var done = await client.ReadReplyAsync(TimeSpan.FromMinutes(30));
        return done.Code == 226 ? bytes / 1e6 / clock.Elapsed.TotalSeconds : throw new InvalidOperationException($"STOR ended with {done}");
    }

    /// <summary>
    /// <paramref name="sessions"/> sessions at once (a blocking client on a thread each), each uploading
    /// <paramref name="filesEach"/> small files with the commands Python's ftplib sends for each (TYPE I, PASV, STOR):
    /// the total rate and the 99th percentile of one file, from its TYPE I to its 226, in milliseconds; and the CPU
    /// per file, over the same window (every session logged in before it, none gone before its end), of the server's
    /// process (for a server that forks a process per session, such as pure-ftpd, only its first), of the clients
    /// (this process) and of the whole machine (kernel threads included), with the cores the machine kept busy.
    /// </summary>
    public static async Task<Uploaders> ConcurrentUploadersAsync(FtpTarget target, string directory, int sessions, int filesEach)
    {
        using (var setup = BlockingFtpClient.LogIn(target))
        {
            setup.Expect("MKD " + directory, 257);
        }

        var latencies = new List<double>(sessions * filesEach);
        using var ready = new CountdownEvent(sessions);
        using var start = new ManualResetEventSlim();
        using var stored = new CountdownEvent(sessions);
        using var quit = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, sessions).Select(s => Task.Factory.StartNew(() =>
        {
            BlockingFtpClient? client = null;
            try
            {
                client = BlockingFtpClient.LogIn(target);
                client.Expect("TYPE I", 200);
                client.Expect("CWD " + directory, 250);
            }
            catch
            {
                client?.Dispose();
                stored.Signal(); // nothing to store: the run ends once the others have, and fails then
                throw;
            }
            finally
            {
                ready.Signal(); // a session that failed is counted too, so the run fails at once, not after the wait
            }

            using var session = client;
            var content = new byte[SmallFileSize];
            start.Wait();
            var mine = new List<double>(filesEach);
            try
            {
                for (var i = 0; i < filesEach; i++)
                {
                    var clock = Stopwatch.StartNew();
                    client.StoreLikeFtplib($"s{s:D3}-{i:D4}.jpg", content);
                    mine.Add(clock.Elapsed.TotalMilliseconds);
                }
            }
            finally
            {
                stored.Signal();
            }

            quit.Wait(); // the sessions end once the CPU is read
            lock (latencies)
            {
                latencies.AddRange(mine);
            }
        }, TaskCreationOptions.LongRunning)).ToList();
        if (!ready.Wait(TimeSpan.FromMinutes(10)) || threads.Any(t => t.IsFaulted))
        {
            start.Set(); // the sessions that logged in run out
            quit.Set();
            await Task.WhenAll(threads); // a session that could not log in fails the run here, instead of timing fewer
            throw new InvalidOperationException($"{sessions} sessions did not all log in within 10 minutes");
        }

        var (serverCpu, clientCpu, machineCpu) = (ProcessCpu.Seconds(target.ProcessId), ProcessCpu.Seconds(Environment.ProcessId), ProcessCpu.MachineBusySeconds());
        var total = Stopwatch.StartNew();
        start.Set();
        await Task.Run(stored.Wait);
        var seconds = total.Elapsed.TotalSeconds;
        var serverSeconds = ProcessCpu.Seconds(target.ProcessId) - serverCpu;
        var clientSeconds = ProcessCpu.Seconds(Environment.ProcessId) - clientCpu;
        var machineSeconds = ProcessCpu.MachineBusySeconds() - machineCpu;
        quit.Set();
        await Task.WhenAll(threads);
        latencies.Sort();
        return new(latencies.Count / seconds, latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(latencies.Count * 0.99) - 1)], serverSeconds * 1000 / latencies.Count, clientSeconds * 1000 / latencies.Count, machineSeconds * 1000 / latencies.Count, machineSeconds / seconds);
    }

    /// <summary>What <see cref="ConcurrentUploadersAsync"/> measured.</summary>
    public sealed record Uploaders(double FilesPerSecond, double P99Ms, double ServerCpuMsPerFile, double ClientCpuMsPerFile, double MachineCpuMsPerFile, double MachineCores);

    [GeneratedRegex(@"\(\|\|\|(\d+)\|\)")]
    private static partial Regex EpsvPort();
}

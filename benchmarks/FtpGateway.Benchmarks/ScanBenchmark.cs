using System.Diagnostics;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// Malware scanning before commit (Debian's clamd on this machine, with the tests' small signature database): the
/// time from STOR to 226 of 1 MiB uploads with scanning against without (99th percentile, one session each), and a
/// large STOR's throughput with scanning against without (curl), each beside what clamd alone takes for the same
/// bytes (a raw INSTREAM client): the part of the time that is the scanner's.
/// </summary>
internal static class ScanBenchmark
{
    public static async Task RunAsync(Settings settings, Report report)
    {
        var work = Directory.CreateDirectory(Path.Combine(settings.Work, "scan")).FullName;
        Console.WriteLine($"Scanning: 1 MiB uploads (STOR to 226, p99 of {settings.Files / 5}) and a {settings.SizeMb} MiB STOR with clamd's verdict before commit, against without");
        await using var clamd = await ClamdServer.StartAsync(streamLimit: 2000 * 1024 * 1024); // above the 1 GiB file
        await using var plain = await Servers.StartGatewayAsync(Path.Combine(work, "plain"));
        await using var scanning = await Servers.StartGatewayAsync(Path.Combine(work, "scanning"), $"--Scanning:Clamd:Address={clamd.Address}", "--Scanning:Timeout=00:05:00");

        var count = Math.Max(200, settings.Files);
        var p99 = await Rounds.MedianAsync("1 MiB STOR p99 (ftplib)", settings.Runs,
            () => P99Async(scanning, count),
            () => P99Async(plain, count));
        report.Add(new Row("scan", "1 MiB STOR to 226, p99, with scanning (ftplib)", "ms", p99.Gateway, "without scanning", p99.Peer, Better.Lower, 0));
        report.Figure("scan", "added to the 226 at p99 by scanning", Report.Invariant($"{p99.Gateway - p99.Peer:F1} ms (target ≤ 20 ms)"));
        var clamdP99 = await ClamdP99Async(clamd.Port, count);
        report.Figure("scan", "clamd alone: 1 MiB INSTREAM to its verdict, p99", Report.Invariant($"{clamdP99:F1} ms"));

        var stor = await Rounds.MedianAsync("scanned STOR", settings.Runs,
            () => FtpWorkloads.StorAsync(scanning, settings.BigFile, "big.bin"),
            () => FtpWorkloads.StorAsync(plain, settings.BigFile, "big.bin"));
        report.Add(new Row("scan", $"STOR {settings.SizeMb} MiB with scanning", "MB/s", stor.Gateway, "without scanning", stor.Peer, Better.Higher, 0.8));
        var alone = await ClamdThroughputAsync(clamd.Port, settings.BigFile);
        report.Add(new Row("scan", $"STOR {settings.SizeMb} MiB with scanning", "MB/s", stor.Gateway, "clamd alone scanning the file", alone, Better.Higher, 0));
        report.Figure("scan", "peak RSS, with / without scanning", Report.Invariant($"{scanning.PeakRssMiB():F1} MiB / {plain.PeakRssMiB():F1} MiB"));
    }

    /// <summary>The 99th percentile of STOR-to-226 of <paramref name="count"/> 1 MiB uploads in one session (Python's ftplib), in ms.</summary>
    private static async Task<double> P99Async(FtpTarget target, int count) =>
        Ftplib.Quantile(await Ftplib.StoreLoopAsync(target, "p99-" + Guid.NewGuid().ToString("N")[..6], count, 1024 * 1024), 0.99) * 1000;

    /// <summary>clamd alone: the 99th percentile of a 1 MiB INSTREAM from its first byte to the verdict (a raw client), in ms.</summary>
    private static Task<double> ClamdP99Async(int port, int count) => Task.Factory.StartNew(
        () =>
        {
            var content = new byte[1024 * 1024];
            Random.Shared.NextBytes(content);
            var times = new List<double>(count);
            for (var i = 0; i < count; i++)
            {
                content[0] = (byte)i;
                var clock = Stopwatch.StartNew();
                Instream(port, content, 1);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }

            return Ftplib.Quantile(times, 0.99);
        },
        TaskCreationOptions.LongRunning);

    /// <summary>clamd alone scanning <paramref name="file"/> by INSTREAM (the same chunks the gateway sends), in MB/s.</summary>
    private static Task<double> ClamdThroughputAsync(int port, string file) => Task.Factory.StartNew(
        () =>
        {
            var clock = Stopwatch.StartNew();
            using (var source = File.OpenRead(file))
            {
                Instream(port, source);
            }

            return new FileInfo(file).Length / 1e6 / clock.Elapsed.TotalSeconds;
        },
        TaskCreationOptions.LongRunning);

    private static void Instream(int port, byte[] content, int times)
    {
        using var stream = new MemoryStream(content, writable: false);
        for (var i = 0; i < times; i++)
        {
            stream.Position = 0;
            Instream(port, stream);
        }
    }

    private static void Instream(int port, Stream source)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(System.Net.IPAddress.Loopback, port);
        socket.Send("zINSTREAM\0"u8);
        var chunk = new byte[4 + (64 * 1024)];
        int n;
        while ((n = source.Read(chunk, 4, chunk.Length - 4)) > 0)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)n);
            socket.Send(chunk.AsSpan(0, 4 + n));
        }

        socket.Send(new byte[4]);
        var answer = new byte[256];
        var got = socket.Receive(answer);
        if (!System.Text.Encoding.ASCII.GetString(answer, 0, got).Contains("OK", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("clamd: " + System.Text.Encoding.ASCII.GetString(answer, 0, got));
        }
    }
}

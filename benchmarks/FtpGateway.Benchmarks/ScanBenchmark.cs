using System.Diagnostics;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// Malware scanning before commit (Debian's clamd on this machine, with the tests' small signature database): the
/// time from STOR to 226 of 1 MiB uploads with scanning against without (99th percentile, one session each), and a
/// large STOR's throughput with scanning against without (curl).
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

        var count = Math.Max(50, settings.Files / 5);
        var p99 = await Rounds.MedianAsync("1 MiB STOR p99", settings.Runs,
            () => P99Async(scanning, count),
            () => P99Async(plain, count));
        report.Add(new Row("scan", "1 MiB STOR to 226, p99, with scanning", "ms", p99.Gateway, "without scanning", p99.Peer, Better.Lower, 0));
        report.Figure("scan", "added to the 226 at p99 by scanning", Report.Invariant($"{p99.Gateway - p99.Peer:F1} ms (target ≤ 20 ms)"));

        var stor = await Rounds.MedianAsync("scanned STOR", settings.Runs,
            () => FtpWorkloads.StorAsync(scanning, settings.BigFile, "big.bin"),
            () => FtpWorkloads.StorAsync(plain, settings.BigFile, "big.bin"));
        report.Add(new Row("scan", $"STOR {settings.SizeMb} MiB with scanning", "MB/s", stor.Gateway, "without scanning", stor.Peer, Better.Higher, 0.8));
        report.Figure("scan", "peak RSS, with / without scanning", Report.Invariant($"{scanning.PeakRssMiB():F1} MiB / {plain.PeakRssMiB():F1} MiB"));
    }

    /// <summary>The 99th percentile of STOR-to-226 of <paramref name="count"/> 1 MiB uploads in one session, in ms.</summary>
    private static Task<double> P99Async(FtpTarget target, int count) => Task.Factory.StartNew(() =>
    {
        var content = new byte[1024 * 1024];
        Random.Shared.NextBytes(content);
        using var client = BlockingFtpClient.LogIn(target);
        client.Expect("TYPE I", 200);
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            content[0] = (byte)i;
            var clock = Stopwatch.StartNew();
            client.Store($"m{i:D4}.bin", content);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return times[(int)Math.Ceiling(0.99 * times.Count) - 1];
    }, TaskCreationOptions.LongRunning);
}

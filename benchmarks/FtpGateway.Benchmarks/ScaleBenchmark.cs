using System.Diagnostics;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// The gateway at fleet scale on local disk: many idle logged-in sessions (memory per session, and what limit
/// is hit first), a listing of a very large folder (first byte, total, memory), and many sessions uploading
/// small files at once (total rate, 99th percentile per file), the last beside pure-ftpd.
/// </summary>
internal static class ScaleBenchmark
{
    public static async Task RunAsync(Settings settings, Report report)
    {
        var work = Directory.CreateDirectory(Path.Combine(settings.Work, "scale")).FullName;
        var sessionLimit = settings.IdleSessions + 1000;
        await using var gateway = await Servers.StartGatewayAsync(work, $"--Ftp:MaxSessions={sessionLimit}", $"--Ftp:MaxSessionsPerAddress={sessionLimit}");
        await IdleSessionsAsync(gateway, settings.IdleSessions, report);
        await HugeListingAsync(settings, report, work, gateway);

        // The gateway's limit, and a listen backlog (3 + c/8) for every uploader connecting at once.
        await using var pure = await Servers.StartPureFtpdAsync(work, maxClients: Math.Max(sessionLimit, 8 * settings.Uploaders));
        const int filesEach = 50;
        Console.WriteLine($"Scale: {settings.Uploaders} sessions uploading 4 KiB files at once, {filesEach} each, with ftplib's commands (TYPE I, PASV, STOR); two untimed rounds each first");
        var round = 0;

        // Two untimed rounds: after one, the JIT still compiled 0.4-0.8 s of every second of the next
        // (dotnet-counters), promoting what the first round made hot; after two it is quiet.
        for (var warmUp = 0; warmUp < 2; warmUp++)
        {
            await FtpWorkloads.ConcurrentUploadersAsync(gateway, $"fleet-{round++}", settings.Uploaders, filesEach);
            await FtpWorkloads.ConcurrentUploadersAsync(pure, $"fleet-{round++}", settings.Uploaders, filesEach);
        }

        var gatewayUploads = new List<FtpWorkloads.Uploaders>();
        var pureUploads = new List<FtpWorkloads.Uploaders>();
        async Task<double> RoundAsync(FtpTarget target, List<FtpWorkloads.Uploaders> into)
        {
            into.Add(await FtpWorkloads.ConcurrentUploadersAsync(target, $"fleet-{round++}", settings.Uploaders, filesEach));
            return into[^1].FilesPerSecond;
        }

        var rates = await Rounds.MedianAsync("concurrent uploaders", settings.Runs, () => RoundAsync(gateway, gatewayUploads), () => RoundAsync(pure, pureUploads), warmUps: 0);
        report.Add(new Row("scale", $"{settings.Uploaders} sessions uploading 4 KiB files at once", "files/s", rates.Gateway, "pure-ftpd", rates.Peer, Better.Higher, 1.0));
        var p99 = (Gateway: Report.Median(gatewayUploads.Select(u => u.P99Ms)), Peer: Report.Median(pureUploads.Select(u => u.P99Ms)));
        report.Add(new Row("scale", $"p99 of one file among {settings.Uploaders} uploaders", "ms", p99.Gateway, "pure-ftpd", p99.Peer, Better.Lower, 1.0));
        // pure-ftpd's own share is not shown: it forks a process per session, and the machine's figure covers them.
        static string Cpu(List<FtpWorkloads.Uploaders> rounds, string? server) => Report.Invariant(
            $"{Report.Median(rounds.Select(u => u.MachineCpuMsPerFile)):F3} ms ({Report.Median(rounds.Select(u => u.MachineCores)):F2} cores busy; {(server is null ? string.Empty : $"{server} {Report.Median(rounds.Select(u => u.ServerCpuMsPerFile)):F3}, ")}the clients {Report.Median(rounds.Select(u => u.ClientCpuMsPerFile)):F3})");
        report.Figure("scale", $"CPU per file among {settings.Uploaders} uploaders, the whole machine", $"with the gateway {Cpu(gatewayUploads, "its process")}; with pure-ftpd {Cpu(pureUploads, null)}");
    }

    /// <summary>
    /// Logs in <paramref name="count"/> sessions and leaves them idle; memory per session from the RSS growth, both
    /// on average and at the margin (from half the sessions to all of them), which leaves out what grows once
    /// whatever the number: the GC's allocation budget and the thread pool.
    /// </summary>
    private static async Task IdleSessionsAsync(FtpTarget gateway, int count, Report report)
    {
        Console.WriteLine($"Scale: {count} idle logged-in sessions");
        var before = Servers.RssMiB(gateway.ProcessId);
        var half = 0.0;
        var halfCount = 0;
        var sessions = new List<RawFtpClient>(count);
        string limit = "none";
        try
        {
            for (var opened = 0; opened < count; opened += 100)
            {
                sessions.AddRange(await Task.WhenAll(Enumerable.Range(0, Math.Min(100, count - opened)).Select(_ => RawFtpClient.LoginAsync(gateway.Port, gateway.User, gateway.Password))));
                if (half == 0 && sessions.Count >= count / 2)
                {
                    halfCount = sessions.Count;
                    await Task.Delay(2000);
                    half = Servers.RssMiB(gateway.ProcessId);
                }
            }
        }
        catch (Exception ex)
        {
            limit = $"after {sessions.Count} sessions: {ex.GetType().Name}: {ex.Message}";
        }

        await Task.Delay(2000); // let the sessions settle (first-use allocations), then read the memory
        var after = Servers.RssMiB(gateway.ProcessId);
        var alive = await sessions[^1].SendAsync("NOOP");
        var margin = half > 0 && sessions.Count > halfCount ? Report.Invariant($", {(after - half) * 1024 / (sessions.Count - halfCount):F1} KiB each from {halfCount} to {sessions.Count}") : "";
        report.Figure("scale", $"{sessions.Count} idle sessions", Report.Invariant($"RSS {before:F0} -> {after:F0} MiB, {(after - before) * 1024 / Math.Max(1, sessions.Count):F1} KiB per session{margin}; the last one answers NOOP with {alive.Code}; limit hit: {limit}"));
        foreach (var session in sessions)
        {
            await session.DisposeAsync();
        }
    }

    private static async Task HugeListingAsync(Settings settings, Report report, string work, FtpTarget gateway)
    {
        Console.WriteLine($"Scale: LIST of a folder of {settings.HugeListEntries} files");
        var clock = Stopwatch.StartNew();
        await DiskBenchmark.FillFolderAsync(Path.Combine(work, "gateway-data", "huge-folder"), settings.HugeListEntries);
        Console.WriteLine(Report.Invariant($"  set-up: {settings.HugeListEntries} files in {clock.Elapsed.TotalSeconds:F0} s"));
        var before = Servers.RssMiB(gateway.ProcessId);
        var (firstByte, total, lines) = await FtpWorkloads.ListAsync(gateway, "huge-folder");
        report.Figure("scale", $"LIST {settings.HugeListEntries} files (disk)", Report.Invariant($"first byte {firstByte * 1000:F0} ms, all {lines} lines in {total:F1} s; RSS {before:F0} MiB before, peak {gateway.PeakRssMiB():F0} MiB"));
    }
}

using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// The gateway on local disk against Debian's pure-ftpd on the same disk, in the same run: a large STOR and
/// RETR (curl), many small files in one session, a LIST of a large folder; then both again with explicit TLS.
/// </summary>
internal static class DiskBenchmark
{
    public static async Task RunAsync(Settings settings, Report report)
    {
        var work = Directory.CreateDirectory(Path.Combine(settings.Work, "disk")).FullName;
        Console.WriteLine($"Local disk: FtpGateway against pure-ftpd ({settings.SizeMb} MiB STOR/RETR with curl, {settings.Files} x 4 KiB in one session, LIST of {settings.ListEntries} entries)");
        await using var gateway = await Servers.StartGatewayAsync(work);
        await using var pure = await Servers.StartPureFtpdAsync(work);
        var gatewayRoot = Path.Combine(work, "gateway-data");
        var pureRoot = Servers.PureFtpdHome(work);
        await FillFolderAsync(Path.Combine(gatewayRoot, "big-folder"), settings.ListEntries);
        await FillFolderAsync(Path.Combine(pureRoot, "big-folder"), settings.ListEntries);
        await Servers.GiveToNobodyAsync(pureRoot);

        var size = new FileInfo(settings.BigFile).Length;
        var storCpu = CpuMeter.PerGiB(Measured(gateway, pure));
        var stor = await Rounds.MedianAsync("STOR", settings.Runs,
            () => FtpWorkloads.StorAsync(gateway, settings.BigFile, "big.bin", cpu: storCpu.Gateway),
            () => FtpWorkloads.StorAsync(pure, settings.BigFile, "big.bin", cpu: storCpu.Peer));
        report.Add(new Row("disk", $"STOR {settings.SizeMb} MiB", "MB/s", stor.Gateway, "pure-ftpd", stor.Peer, Better.Higher, 1.0));
        report.Figure("disk", "CPU of the STOR rounds", storCpu.Describe());
        var retr = await Rounds.MedianAsync("RETR", settings.Runs,
            () => FtpWorkloads.RetrAsync(gateway, "big.bin", size),
            () => FtpWorkloads.RetrAsync(pure, "big.bin", size));
        report.Add(new Row("disk", $"RETR {settings.SizeMb} MiB", "MB/s", retr.Gateway, "pure-ftpd", retr.Peer, Better.Higher, 1.0));

        // Python's ftplib, as scripts and many devices send it: TYPE I, PASV, STOR, the data, the 226, per file. Both
        // servers first take the same warm-up (the gateway's JIT compiles its hot paths to their final tier meanwhile).
        var round = 0;
        await Ftplib.FilesPerSecondAsync(gateway, "warm-up", settings.WarmUpFiles, 4096);
        await Ftplib.FilesPerSecondAsync(pure, "warm-up", settings.WarmUpFiles, 4096);
        var smallCpu = CpuMeter.PerFile(Measured(gateway, pure));
        var small = await Rounds.MedianAsync("small files (ftplib)", settings.Runs,
            () => Ftplib.FilesPerSecondAsync(gateway, $"small-{round++}", settings.Files, 4096, smallCpu.Gateway),
            () => Ftplib.FilesPerSecondAsync(pure, $"small-{round++}", settings.Files, 4096, smallCpu.Peer));
        report.Add(new Row("disk", $"{settings.Files} x 4 KiB, one session (ftplib)", "files/s", small.Gateway, "pure-ftpd", small.Peer, Better.Higher, 1.0));
        report.Figure("disk", "CPU of the small-file rounds", smallCpu.Describe());
        await PhasesAsync(settings, report, gateway, pure);
        var source = await Lftp.SourceAsync(settings, settings.Files);
        var mirrorCpu = CpuMeter.PerFile(Measured(gateway, pure));
        var mirror = await Rounds.MedianAsync("small files (lftp mirror -R)", settings.Runs,
            () => Lftp.MirrorAsync(gateway, source, $"mirror-{round++}", settings.Files, mirrorCpu.Gateway),
            () => Lftp.MirrorAsync(pure, source, $"mirror-{round++}", settings.Files, mirrorCpu.Peer));
        report.Add(new Row("disk", $"{settings.Files} x 4 KiB, lftp mirror -R", "files/s", mirror.Gateway, "pure-ftpd", mirror.Peer, Better.Higher, 1.0));
        report.Figure("disk", "CPU of the lftp rounds", mirrorCpu.Describe());
        var trips = await Rounds.MedianAsync("command round trips (ftplib)", settings.Runs,
            async () => (await Ftplib.RoundTripsAsync(gateway, 2000)).Sum(),
            async () => (await Ftplib.RoundTripsAsync(pure, 2000)).Sum());
        report.Add(new Row("disk", "NOOP + TYPE I + PASV round trips (ftplib)", "ms", trips.Gateway, "pure-ftpd", trips.Peer, Better.Lower, 1 / 1.2));

        var list = await Rounds.MedianAsync("LIST", settings.Runs,
            async () => (await FtpWorkloads.ListAsync(gateway, "big-folder")).Total,
            async () => (await FtpWorkloads.ListAsync(pure, "big-folder")).Total,
            warmUps: 30);
        report.Add(new Row("disk", $"LIST {settings.ListEntries} entries", "s", list.Gateway, "pure-ftpd", list.Peer, Better.Lower, 1.0));
        report.Figure("disk", "peak RSS, gateway / pure-ftpd", Report.Invariant($"{gateway.PeakRssMiB():F1} MiB / {pure.PeakRssMiB():F1} MiB"));
    }

    /// <summary>The same large STOR and RETR over explicit TLS (AUTH TLS, PROT P), same certificate for both.</summary>
    public static async Task RunTlsAsync(Settings settings, Report report)
    {
        var work = Directory.CreateDirectory(Path.Combine(settings.Work, "ftps")).FullName;
        var tls = TestCertificates.CreateTlsFiles(work);
        Console.WriteLine($"FTPS (explicit TLS, PROT P, local disk): FtpGateway against pure-ftpd with TLS ({settings.SizeMb} MiB with curl)");
        await using var gateway = await Servers.StartGatewayAsync(work, $"--Ftp:Tls:CertificatePath={tls.Certificate}", $"--Ftp:Tls:KeyPath={tls.Key}");
        await using var pure = await Servers.StartPureFtpdAsync(work, tls);
        var size = new FileInfo(settings.BigFile).Length;
        var storCpu = CpuMeter.PerGiB(Measured(gateway, pure));
        var stor = await Rounds.MedianAsync("FTPS STOR", settings.Runs,
            () => FtpWorkloads.StorAsync(gateway, settings.BigFile, "big.bin", tls: true, storCpu.Gateway),
            () => FtpWorkloads.StorAsync(pure, settings.BigFile, "big.bin", tls: true, storCpu.Peer));
        report.Add(new Row("ftps", $"STOR {settings.SizeMb} MiB", "MB/s", stor.Gateway, "pure-ftpd with TLS", stor.Peer, Better.Higher, 1.0));
        report.Figure("ftps", "CPU of the STOR rounds", storCpu.Describe());
        var retrCpu = CpuMeter.PerGiB(Measured(gateway, pure));
        var retr = await Rounds.MedianAsync("FTPS RETR", settings.Runs,
            () => FtpWorkloads.RetrAsync(gateway, "big.bin", size, tls: true, retrCpu.Gateway),
            () => FtpWorkloads.RetrAsync(pure, "big.bin", size, tls: true, retrCpu.Peer));
        report.Add(new Row("ftps", $"RETR {settings.SizeMb} MiB", "MB/s", retr.Gateway, "pure-ftpd with TLS", retr.Peer, Better.Higher, 1.0));
        report.Figure("ftps", "CPU of the RETR rounds", retrCpu.Describe());
        report.Figure("ftps", "peak RSS, gateway / pure-ftpd", Report.Invariant($"{gateway.PeakRssMiB():F1} MiB / {pure.PeakRssMiB():F1} MiB"));
    }

    /// <summary>
    /// Where a small file's time goes: each phase of ftplib's upload on the client's clock, the median of the rounds
    /// (alternating) on each server, as many files as the small-file rounds.
    /// </summary>
    private static async Task PhasesAsync(Settings settings, Report report, FtpTarget gateway, FtpTarget pure)
    {
        var round = 0;
        var (g, p) = await Rounds.AlternateAsync(settings.Runs,
            () => Ftplib.PhasesAsync(gateway, $"phases-{round++}", settings.Files, 4096),
            () => Ftplib.PhasesAsync(pure, $"phases-{round++}", settings.Files, 4096),
            warmUps: 0);
        var phases = Ftplib.PhaseNames.Select((name, i) => Report.Invariant($"{name} {Report.Median(g.Select(r => r[i])):F3} / {Report.Median(p.Select(r => r[i])):F3}"));
        report.Figure("disk", "a small file's phases (ftplib), ms", $"gateway / pure-ftpd: {string.Join(", ", phases)}");
    }

    /// <summary>The CPU of a comparison with pure-ftpd: the gateway's process, and pure-ftpd's with its sessions once they ended.</summary>
    private static (string, IReadOnlyList<int>)[] Measured(FtpTarget gateway, FtpTarget pure) => [("the gateway", [gateway.ProcessId]), ("pure-ftpd", [pure.ProcessId])];

    /// <summary>A folder of <paramref name="entries"/> small files, written straight to disk.</summary>
    public static Task FillFolderAsync(string folder, int entries) => Task.Run(() =>
    {
        Directory.CreateDirectory(folder);
        var content = new byte[100];
        for (var i = 0; i < entries; i++)
        {
            File.WriteAllBytes(Path.Combine(folder, $"IMG_{i:D7}.jpg"), content);
        }
    });
}

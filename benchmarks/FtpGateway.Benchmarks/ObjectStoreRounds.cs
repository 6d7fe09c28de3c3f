namespace FtpGateway.Benchmarks;

/// <summary>The comparisons the S3 and Azure sections share: small files through two clients, and the gateway's memory.</summary>
internal static class ObjectStoreRounds
{
    /// <summary>
    /// The small files on an object store: ftplib's loop and lftp's <c>mirror -R</c> through the gateway, each against
    /// <paramref name="puts"/> (the store's own sequential PUTs of as many files under a new prefix), after a warm-up
    /// for the JIT's final tier; each comparison with where its CPU went.
    /// </summary>
    public static async Task SmallFilesAsync(Settings settings, Report report, string section, FtpTarget gateway, (string, IReadOnlyList<int>)[] measured, string peer, Func<string, Task<double>> puts)
    {
        var round = 0;
        await Ftplib.FilesPerSecondAsync(gateway, "warm-up", Math.Min(settings.WarmUpFiles, 2000), 4096);
        var source = await Lftp.SourceAsync(settings, settings.Files);
        (string What, string Client, Func<CpuMeter.Side, Task<double>> Gateway)[] clients =
        [
            ("one session (ftplib)", "small-file", cpu => Ftplib.FilesPerSecondAsync(gateway, $"small-{round++}", settings.Files, 4096, cpu)),
            ("lftp mirror -R", "lftp", cpu => Lftp.MirrorAsync(gateway, source, $"mirror-{round++}", settings.Files, cpu)),
        ];
        foreach (var (what, client, through) in clients)
        {
            var cpu = CpuMeter.PerFile(measured);
            var rate = await Rounds.MedianAsync($"small files ({what})", settings.Runs,
                () => through(cpu.Gateway),
                () => cpu.Peer.MeasureAsync(settings.Files, () => puts($"direct/small-{round++}/")));
            report.Add(new Row(section, $"{settings.Files} x 4 KiB, {what}", "files/s", rate.Gateway, peer, rate.Peer, Better.Higher, 0.9));
            report.Figure(section, $"CPU of the {client} rounds", cpu.Describe());
        }
    }

    /// <summary>
    /// The very large upload (generated, nothing on disk) and the gateway's peak memory over the section.
    /// <paramref name="capMb"/> bounds it where the store keeps everything in memory (Azurite).
    /// </summary>
    public static async Task MemoryAsync(Settings settings, Report report, string section, FtpTarget gateway, int capMb = int.MaxValue)
    {
        var before = gateway.PeakRssMiB();
        var mb = Math.Min(settings.FlatMb, capMb);
        if (mb > 0)
        {
            var rate = await FtpWorkloads.StreamUploadAsync(gateway, "huge.bin", mb * 1024L * 1024);
            var capped = mb < settings.FlatMb ? $" (capped from {settings.FlatMb} MiB: the store holds it in memory)" : "";
            report.Figure(section, $"STOR {mb} MiB (generated){capped}", Report.Invariant($"{rate:F0} MB/s; peak RSS {before:F1} MiB before it, {gateway.PeakRssMiB():F1} MiB after"));
        }

        report.Figure(section, "peak RSS over the section (target ≤ 150)", Report.Invariant($"{gateway.PeakRssMiB():F1} MiB"));
    }
}

using System.Globalization;

namespace FtpGateway.Benchmarks;

/// <summary>
/// lftp's <c>mirror -R</c>, as operators and scripts push a folder: after a listing of the target, per file lftp
/// sends <c>PASV</c>, <c>STOR</c> and, where the server offers it, <c>MFMT</c> with the local file's time. Every
/// round mirrors the same local folder into a new remote one.
/// </summary>
internal static class Lftp
{
    /// <summary>The local folder of <paramref name="count"/> files of 4 KiB, made once per run, dated a year back (so the MFMT times are the files' own).</summary>
    public static async Task<string> SourceAsync(Settings settings, int count)
    {
        await Servers.InstallIfMissingAsync("lftp", "/usr/bin/lftp");

        var folder = Path.Combine(settings.Work, $"lftp-source-{count}");
        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder);
            var content = new byte[FtpWorkloads.SmallFileSize];
            var time = DateTime.UtcNow.AddYears(-1);
            for (var i = 0; i < count; i++)
            {
                Random.Shared.NextBytes(content);
                var path = Path.Combine(folder, $"IMG_{i:D6}.jpg");
                await File.WriteAllBytesAsync(path, content);
                File.SetLastWriteTimeUtc(path, time);
            }
        }

        return folder;
    }

    /// <summary>
    /// Files per second of <c>mirror -R</c> of <paramref name="source"/> (<paramref name="count"/> files) into the new
    /// <paramref name="remote"/>, from lftp's start to its exit: its login and the listing of the target included, as
    /// a script pays them (milliseconds, against the seconds the files take). lftp exits non-zero when any file
    /// failed, and the round fails with it.
    /// </summary>
    public static async Task<double> MirrorAsync(FtpTarget target, string source, string remote, int count, CpuMeter.Side? cpu = null)
    {
        var script = $"set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 60; mirror -R \"{source}\" \"{remote}\"; quit";
        string[] args = ["-u", $"{target.User},{target.Password}", "-p", target.Port.ToString(CultureInfo.InvariantCulture), "127.0.0.1", "-e", script];
        return count / await CpuMeter.MeasureAsync(cpu, count, () => ClientProcess.TimeAsync("lftp", args));
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FtpGateway.Benchmarks;
using FtpGateway.TestSupport;

// FtpGateway throughput and memory benchmark. Runs the gateway as its own process on loopback and drives it
// with curl, beside Debian's pure-ftpd on the same machine in the same run (absolute figures on a shared
// 2-core machine swing; the same-run ratio is what to read).
//
//   dotnet run -c Release --project benchmarks/FtpGateway.Benchmarks -- [--size-mb 1024] [--files 1000] [--runs 3]
var sizeMb = Arg("--size-mb", 1024);
var files = Arg("--files", 1000);
var runs = Arg("--runs", 3);
var providers = (args.SkipWhile(a => a != "--providers").Skip(1).FirstOrDefault() ?? "fs,s3,azure").Split(',');

var work = Directory.CreateTempSubdirectory("ftpgw-bench-");
try
{
    Console.WriteLine($"FtpGateway benchmark: {sizeMb} MiB file (curl), {files} x 4 KiB files in one session (raw client), median of {runs} runs, loopback");
    var big = Path.Combine(work.FullName, "big.bin");
    WriteRandomFile(big, sizeMb * 1024L * 1024);
    var small = Directory.CreateDirectory(Path.Combine(work.FullName, "small")).FullName;
    for (var i = 0; i < files; i++)
    {
        File.WriteAllBytes(Path.Combine(small, $"f{i:D5}.bin"), RandomNumberGenerator.GetBytes(4096));
    }

    if (providers.Contains("s3"))
    {
        await S3Benchmark.RunAsync(work.FullName, big, runs);
    }

    if (providers.Contains("azure"))
    {
        await AzureBenchmark.RunAsync(work.FullName, big, runs);
    }

    if (!providers.Contains("fs"))
    {
        return;
    }

    await using var gateway = await Servers.StartGatewayAsync(work.FullName);
    await using var pure = await Servers.StartPureFtpdAsync(work.FullName);
    var targets = new List<(string Name, FtpTarget Target)> { ("FtpGateway (FileSystem)", gateway) };
    if (pure is null)
    {
        Console.WriteLine("pure-ftpd: not installed (apt-get install pure-ftpd); peer figures skipped");
    }
    else
    {
        targets.Add(("pure-ftpd", pure));
    }

    // Both servers get the same warm-up (the gateway's JIT settles; both file systems see the same pattern),
    // then their runs alternate so that the machine's noise and page-cache writeback fall on both alike.
    foreach (var (_, target) in targets)
    {
        await SmallFilesAsync(target, small, Math.Min(files, 300), "warmup");
    }

    var samples = targets.ToDictionary(t => t.Name, _ => new List<(double Stor, double Retr, double Files)>());
    for (var run = 0; run < runs; run++)
    {
        foreach (var (name, target) in targets)
        {
            var sample = await MeasureOnceAsync(target, big, small, files, run);
            samples[name].Add(sample);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  run {run + 1} {name}: STOR {sample.Stor:F0} MB/s, RETR {sample.Retr:F0} MB/s, {sample.Files:F0} files/s"));
        }
    }

    var results = targets.Select(t => new Result(
        t.Name,
        Median(samples[t.Name].Select(s => s.Stor)),
        Median(samples[t.Name].Select(s => s.Retr)),
        Median(samples[t.Name].Select(s => s.Files)),
        t.Target.PeakRssMiB())).ToList();

    Console.WriteLine();
    Console.WriteLine($"{"server",-26} {"STOR MB/s",10} {"RETR MB/s",10} {"small files/s",14} {"peak RSS MiB",13}");
    foreach (var r in results)
    {
        Console.WriteLine($"{r.Name,-26} {r.StorMBps,10:F0} {r.RetrMBps,10:F0} {r.FilesPerSecond,14:F0} {r.PeakRssMiB,13:F1}");
    }

    if (results.Count == 2)
    {
        var (g, p) = (results[0], results[1]);
        Console.WriteLine($"{"ratio gateway/pure-ftpd",-26} {g.StorMBps / p.StorMBps,10:F2} {g.RetrMBps / p.RetrMBps,10:F2} {g.FilesPerSecond / p.FilesPerSecond,14:F2} {g.PeakRssMiB / p.PeakRssMiB,13:F2}");
    }
}
finally
{
    work.Delete(recursive: true);
}

static async Task<(double Stor, double Retr, double Files)> MeasureOnceAsync(FtpTarget target, string big, string smallDir, int files, int run)
{
    var bytes = new FileInfo(big).Length;
    var stor = bytes / 1e6 / await Curl.TimeAsync(["-sS", "-T", big, $"{target.Url}/big.bin"]);
    var retr = bytes / 1e6 / await Curl.TimeAsync(["-sS", "-o", "/dev/null", $"{target.Url}/big.bin"]);

    // One session, one EPSV and one STOR per file, with a plain client whose own cost is negligible
    // (curl spends more time per file than either server does).
    var rate = files / await SmallFilesAsync(target, smallDir, files, $"run{run}");
    return (stor, retr, rate);
}

static async Task<double> SmallFilesAsync(FtpTarget target, string smallDir, int files, string dir)
{
    var contents = Enumerable.Range(0, files).Select(i => File.ReadAllBytes(Path.Combine(smallDir, $"f{i:D5}.bin"))).ToArray();
    await using var client = await RawFtpClient.LoginAsync(target.Port, target.User, target.Password);
    await client.ExpectAsync("TYPE I", 200);
    await client.ExpectAsync("MKD " + dir, 257);
    await client.ExpectAsync("CWD " + dir, 250);
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < files; i++)
    {
        var reply = await client.UploadAsync($"STOR f{i:D5}.bin", contents[i]);
        if (reply.Code != 226)
        {
            throw new InvalidOperationException($"STOR answered {reply}");
        }
    }

    return clock.Elapsed.TotalSeconds;
}

static double Median(IEnumerable<double> values) => ObjectStoreReport.Median(values);

static void WriteRandomFile(string path, long size)
{
    using var file = File.Create(path);
    var chunk = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
    for (long written = 0; written < size; written += chunk.Length)
    {
        file.Write(chunk, 0, (int)Math.Min(chunk.Length, size - written));
        chunk[0]++;
    }
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

internal sealed record Result(string Name, double StorMBps, double RetrMBps, double FilesPerSecond, double PeakRssMiB);

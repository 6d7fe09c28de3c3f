using System.Globalization;
using System.Security.Cryptography;
using FtpGateway.Benchmarks;

// FtpGateway's speed and memory against its peers, in the same run on this machine (absolute figures on a
// shared 2-core machine swing by 2x; the same-run ratios are what to read). The gateway runs as its own
// process on loopback; its peers are Debian's pure-ftpd (local disk, with and without TLS), the AWS SDK on
// radosgw and the Azure SDK on Azurite doing the same operations directly.
//
//   dotnet run -c Release --project benchmarks/FtpGateway.Benchmarks -- [--sections disk,ftps,s3,azure,scale,relay (and scan: needs Debian's clamd)]
//       [--size-mb 1024] [--files 1000] [--list 10000] [--runs 3] [--flat-mb 4096] [--s3-list 100000]
//       [--idle 10000] [--huge-list 1000000] [--uploaders 200] [--warm-up-files 5000] [--svg docs/benchmark.svg]
//       [--gateway DIR: a published gateway, e.g. from dotnet publish src/FtpGateway -c Release -r linux-x64
//        --self-contained -o DIR, as the Dockerfile makes it; default: the build output beside the benchmark]
//       [--keep-work: leave the work directory (its path is printed) for the caller to delete later; on ext4
//        without a journal, creating files right after another run deleted 100,000 is slower for every server]
var sections = Text("--sections", "disk,ftps,s3,azure,scale,relay").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
var work = Directory.CreateTempSubdirectory("ftpgw-bench-");
var settings = new Settings(
    work.FullName,
    Path.Combine(work.FullName, "big.bin"),
    Number("--size-mb", 1024),
    Number("--files", 1000),
    Number("--list", 10_000),
    Number("--runs", 3),
    Number("--flat-mb", 4096),
    Number("--s3-list", 100_000),
    Number("--idle", 10_000),
    Number("--huge-list", 1_000_000),
    Number("--uploaders", 200),
    Number("--warm-up-files", 5000));
Servers.PublishedGateway = Text("--gateway", string.Empty) is { Length: > 0 } published ? Path.GetFullPath(published) : null;
var report = new Report();
try
{
    Console.WriteLine($"FtpGateway benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; sections {string.Join(',', sections)}; medians of {settings.Runs} rounds; gateway {Servers.PublishedGateway ?? "from the build output"}");
    WriteRandomFile(settings.BigFile, settings.SizeMb * 1024L * 1024);
    var run = new Dictionary<string, Func<Task>>
    {
        ["disk"] = () => DiskBenchmark.RunAsync(settings, report),
        ["ftps"] = () => DiskBenchmark.RunTlsAsync(settings, report),
        ["s3"] = () => S3Benchmark.RunAsync(settings, report),
        ["azure"] = () => AzureBenchmark.RunAsync(settings, report),
        ["scale"] = () => ScaleBenchmark.RunAsync(settings, report),
        ["relay"] = () => RelayBenchmark.RunAsync(settings, report),
        ["scan"] = () => ScanBenchmark.RunAsync(settings, report),
    };
    foreach (var section in sections)
    {
        await (run.GetValueOrDefault(section) ?? throw new ArgumentException($"unknown section '{section}' (disk, ftps, s3, azure, scale, relay, scan)"))();
    }

    report.Print();
    if (Text("--svg", string.Empty) is { Length: > 0 } svg)
    {
        report.WriteChart(svg, $"FtpGateway against its peers, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, medians of {settings.Runs} rounds");
        Console.WriteLine($"Chart written to {svg}");
    }
}
finally
{
    if (args.Contains("--keep-work"))
    {
        Console.WriteLine($"Work directory kept: {work.FullName}");
    }
    else
    {
        work.Delete(recursive: true);
    }
}

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

int Number(string name, int fallback) => int.Parse(Text(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

string Text(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

/// <summary>What every section runs with.</summary>
internal sealed record Settings(
    string Work,
    string BigFile,
    int SizeMb,
    int Files,
    int ListEntries,
    int Runs,
    int FlatMb,
    int S3ListEntries,
    int IdleSessions,
    int HugeListEntries,
    int Uploaders,
    int WarmUpFiles);

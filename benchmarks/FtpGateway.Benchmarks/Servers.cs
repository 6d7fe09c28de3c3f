using System.Diagnostics;
using System.Globalization;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>An FTP server under test, running as its own process tree.</summary>
internal sealed class FtpTarget(int port, string user, string password, Process process, Func<double> peakRss, Action? cleanup = null) : IAsyncDisposable
{
    public int ProcessId => process.Id;

    public string Url => $"ftp://{user}:{password}@127.0.0.1:{port}";

    public int Port => port;

    public string User => user;

    public string Password => password;

    public double PeakRssMiB() => peakRss();

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        cleanup?.Invoke();
    }
}

internal static class Servers
{
    private const string User = "bench";
    private const string Password = "bench-pw-1";

    /// <summary>
    /// A published gateway to run instead of the build output next to the benchmark (<c>--gateway DIR</c>): the
    /// directory <c>dotnet publish</c> wrote, as the container image builds it.
    /// </summary>
    public static string? PublishedGateway { get; set; }

    /// <summary>How to start a gateway process: the published executable, or the build output through <c>dotnet</c>.</summary>
    public static ProcessStartInfo GatewayStart()
    {
        var start = new ProcessStartInfo(PublishedGateway is { } published ? Path.Combine(published, "FtpGateway") : "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (PublishedGateway is null)
        {
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "FtpGateway.dll"));
        }

        // As the container image runs it (Dockerfile), unless the benchmark's own environment says otherwise: glibc
        // reads the arena cap only at process start.
        start.Environment.TryAdd("MALLOC_ARENA_MAX", "2");

        return start;
    }

    /// <summary>The gateway as its own process, storing under <c>work/gateway-data</c> unless the settings say otherwise.</summary>
    public static async Task<FtpTarget> StartGatewayAsync(string work, params string[] settings)
    {
        var port = FreePorts.One();
        var root = Directory.CreateDirectory(Path.Combine(work, "gateway-data")).FullName;
        var start = GatewayStart();
        foreach (var a in new[]
        {
            $"--Ftp:Port={port}", "--Ftp:ListenAddress=127.0.0.1", $"--Storage:FileSystem:Root={root}",
            $"--Users:0:Name={User}", $"--Users:0:Password={Password}", "--Logging:LogLevel:Default=Warning",
            "--Management:Port=0", "--Management:ListenAddress=127.0.0.1",
        }.Concat(settings))
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(30), () => process.HasExited ? $"{start.FileName} exited with {process.ExitCode}" : null);

        // The kernel's high-water mark of the process's resident set: exact, no sampling.
        return new FtpTarget(port, User, Password, process, () => StatusKiB(process.Id, "VmHWM") / 1024.0);
    }

    /// <summary>The directory pure-ftpd's user sees as its root.</summary>
    public static string PureFtpdHome(string work) => Path.Combine(work, "pure", "home");

    /// <summary>
    /// pure-ftpd as in shared/PEERS.md: one virtual user, chrooted, loopback only; with <paramref name="tls"/> it
    /// offers explicit TLS as the gateway does. Installed from Debian when missing.
    /// </summary>
    /// <param name="work">the benchmark's directory for this section.</param>
    /// <param name="tls">certificate and key PEM files, for explicit TLS.</param>
    /// <param name="listingCap">its <c>-L</c>: the most entries a listing returns.</param>
    /// <param name="maxClients">
    /// its <c>-c</c> and <c>-C</c>. pure-ftpd's listen backlog follows from it (3 + c / 8): with 250, 34 connections wait
    /// to be accepted, and 200 clients connecting at once overflowed it.
    /// </param>
    public static async Task<FtpTarget> StartPureFtpdAsync(string work, (string Certificate, string Key)? tls = null, int listingCap = 100_000, int maxClients = 250)
    {
        await InstallIfMissingAsync("pure-ftpd", "/usr/sbin/pure-ftpd", "/usr/bin/pure-pw");

        var port = FreePorts.One();
        var dir = Directory.CreateDirectory(Path.Combine(work, "pure")).FullName;
        var home = Directory.CreateDirectory(PureFtpdHome(work)).FullName;
        File.SetUnixFileMode(work, File.GetUnixFileMode(work) | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) | UnixFileMode.OtherExecute);
        await Run("chown", "-R", "65534:65534", home);
        var hash = (await Run("openssl", "passwd", "-6", Password)).Trim();
        await File.WriteAllTextAsync(Path.Combine(dir, "passwd"), $"{User}:{hash}:65534:65534::{home}/./::::::::::::\n");
        await Run("pure-pw", "mkdb", Path.Combine(dir, "pdb"), "-f", Path.Combine(dir, "passwd"));
        var start = new ProcessStartInfo("/usr/sbin/pure-ftpd") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        string[] tlsArgs = tls is { } t ? ["-Y", "1", "-2", $"{t.Certificate},{t.Key}"] : [];

        // Passive ports below the kernel's ephemeral range (the clients'), as many as fit: pure-ftpd picks them at
        // random, and with 200 sessions at once a round once found no free one in 20000-32000 ("425 Unable to
        // identify the local data socket: Address already in use").
        foreach (var a in new[] { "-S", $"127.0.0.1,{port}", "-p", "10000:32000", "-l", $"puredb:{Path.Combine(dir, "pdb")}", "-E", "-A", "-H", "-4", "-c", $"{maxClients}", "-C", $"{maxClients}", "-I", "600", "-L", $"{listingCap}:8" }.Concat(tlsArgs))
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(30), () => process.HasExited ? $"{start.FileName} exited with {process.ExitCode}" : null);

        // pure-ftpd forks a process per session: sample the whole tree's RSS and keep the maximum.
        var peak = 0.0;
        var sampler = new Timer(_ => peak = Math.Max(peak, TreeRssKiB(process.Id) / 1024.0), null, 0, 20);
        return new FtpTarget(port, User, Password, process, () => peak, () => sampler.Dispose());
    }

    /// <summary>Makes a tree pure-ftpd's user (nobody) can read and write.</summary>
    public static Task GiveToNobodyAsync(string path) => Run("chown", "-R", "65534:65534", path);

    /// <summary>A process's current resident set (VmRSS), in MiB.</summary>
    public static double RssMiB(int pid) => StatusKiB(pid, "VmRSS") / 1024.0;

    private static long StatusKiB(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static long TreeRssKiB(int root)
    {
        long total = 0;
        foreach (var pid in ProcessCpu.ChildrenOf(root).Prepend(root))
        {
            try
            {
                total += StatusKiB(pid, "VmRSS");
            }
            catch (IOException)
            {
                // It ended while we looked.
            }
        }

        return total;
    }

    /// <summary>Installs Debian's <paramref name="package"/> when any of <paramref name="files"/> is missing.</summary>
    public static async Task InstallIfMissingAsync(string package, params string[] files)
    {
        if (!files.All(File.Exists))
        {
            Console.WriteLine($"{package} is not installed: installing it from Debian (apt-get install {package})");
            await Run("apt-get", "install", "-y", "-qq", "--no-install-recommends", package);
        }
    }

    private static async Task<string> Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return p.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} failed: {await p.StandardError.ReadToEndAsync()}");
    }
}

internal static class Curl
{
    /// <summary>Runs curl and returns the wall-clock seconds it took; fails on a non-zero exit.</summary>
    public static Task<double> TimeAsync(string[] args) => ClientProcess.TimeAsync("curl", args);
}

internal static class ClientProcess
{
    /// <summary>Runs a client program and returns the wall-clock seconds it took; fails on a non-zero exit.</summary>
    public static async Task<double> TimeAsync(string program, string[] args)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        return p.ExitCode == 0 ? seconds : throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}");
    }
}

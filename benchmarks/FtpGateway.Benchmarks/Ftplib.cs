using System.Diagnostics;
using System.Globalization;

namespace FtpGateway.Benchmarks;

/// <summary>
/// Python's ftplib, the client PEERS.md measures small files with: one session, and per file what
/// <c>storbinary</c> sends (<c>TYPE I</c>, <c>PASV</c>, <c>STOR</c>, the data, the <c>226</c>). Each file's time
/// from the call to its return is measured by the client itself.
/// </summary>
internal static class Ftplib
{
    private const string Script = """
        import ftplib, io, os, sys, time
        port, user, password, directory, count, size = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        data = bytearray(os.urandom(size))
        ftp = ftplib.FTP()
        ftp.connect('127.0.0.1', port)
        ftp.login(user, password)
        if directory:
            ftp.mkd(directory)
            ftp.cwd(directory)
        times = []
        for i in range(count):
            data[0] = i % 256
            start = time.perf_counter()
            ftp.storbinary('STOR f%06d.jpg' % i, io.BytesIO(data))
            times.append(time.perf_counter() - start)
        ftp.quit()
        print('\n'.join('%.6f' % t for t in times))
        """;

    /// <summary>Stores <paramref name="count"/> files of <paramref name="size"/> bytes in one session (into a new <paramref name="directory"/> when given); each file's seconds.</summary>
    public static async Task<IReadOnlyList<double>> StoreLoopAsync(FtpTarget target, string? directory, int count, int size) =>
        [.. (await RunAsync(Script, target, directory ?? string.Empty, Number(count), Number(size))).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Parse)];

    private const string RoundTrips = """
        import ftplib, sys, time
        port, user, password, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
        ftp = ftplib.FTP()
        ftp.connect('127.0.0.1', port)
        ftp.login(user, password)
        out = []
        for command in ('NOOP', 'TYPE I', 'PASV'):
            start = time.perf_counter()
            for i in range(count):
                ftp.sendcmd(command)
            out.append('%.6f' % ((time.perf_counter() - start) / count))
        ftp.quit()
        print(' '.join(out))
        """;

    private const string Phases = """
        import ftplib, os, socket, sys, time
        port, user, password, directory, count, size = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        data = os.urandom(size)
        ftp = ftplib.FTP()
        ftp.connect('127.0.0.1', port)
        ftp.login(user, password)
        ftp.mkd(directory)
        ftp.cwd(directory)
        sums = [0.0] * 4
        for i in range(count):
            t0 = time.perf_counter()
            ftp.voidcmd('TYPE I')
            t1 = time.perf_counter()
            host, data_port = ftplib.parse227(ftp.sendcmd('PASV'))
            t2 = time.perf_counter()
            conn = socket.create_connection((host, data_port))
            reply = ftp.sendcmd('STOR f%06d.jpg' % i)
            if not reply.startswith(('125', '150')):
                raise Exception(reply)
            t3 = time.perf_counter()
            conn.sendall(data)
            conn.close()
            ftp.voidresp()
            t4 = time.perf_counter()
            for k, (a, b) in enumerate(((t0, t1), (t1, t2), (t2, t3), (t3, t4))):
                sums[k] += b - a
        ftp.quit()
        print(' '.join('%.6f' % (s / count) for s in sums))
        """;

    /// <summary>The phases of a small upload as <c>storbinary</c> sends it, in the same order.</summary>
    public static readonly string[] PhaseNames = ["TYPE I", "PASV", "connect + STOR to 150", "the data to 226"];

    /// <summary>
    /// The mean time, in ms, of each of <see cref="PhaseNames"/> over <paramref name="count"/> small files in one
    /// session, into the new <paramref name="directory"/>: the same commands <c>storbinary</c> sends, timed apart.
    /// </summary>
    public static async Task<double[]> PhasesAsync(FtpTarget target, string directory, int count, int size) =>
        [.. (await RunAsync(Phases, target, directory, Number(count), Number(size))).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => Parse(v) * 1000)];

    /// <summary>
    /// Files per second of <paramref name="count"/> small files in one session (the loop's own time, without login and
    /// MKD). A meter counts the whole script, Python's start and the login included.
    /// </summary>
    public static async Task<double> FilesPerSecondAsync(FtpTarget target, string directory, int count, int size, CpuMeter.Side? cpu = null) =>
        count / (await CpuMeter.MeasureAsync(cpu, count, () => StoreLoopAsync(target, directory, count, size))).Sum();

    /// <summary>The mean round trip, in ms, of <c>NOOP</c>, <c>TYPE I</c> and <c>PASV</c> (each sent <paramref name="count"/> times in one session).</summary>
    public static async Task<double[]> RoundTripsAsync(FtpTarget target, int count) =>
        [.. (await RunAsync(RoundTrips, target, Number(count))).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => Parse(v) * 1000)];

    /// <summary>Runs <paramref name="script"/> with python3 against <paramref name="target"/> (port, user, password, then <paramref name="args"/>); its standard output.</summary>
    private static async Task<string> RunAsync(string script, FtpTarget target, params string[] args)
    {
        var start = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-c", script, Number(target.Port), target.User, target.Password }.Concat(args))
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return p.ExitCode == 0 ? await stdout : throw new InvalidOperationException($"ftplib script failed ({p.ExitCode}): {await stderr}");
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static double Parse(string value) => double.Parse(value, CultureInfo.InvariantCulture);

    /// <summary>The <paramref name="q"/> quantile (0–1) of <paramref name="values"/>.</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1)];
    }
}

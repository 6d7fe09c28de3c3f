using System.Globalization;

namespace FtpGateway.Benchmarks;

/// <summary>CPU seconds a process has used, from <c>/proc/PID/stat</c> (clock ticks of 1/100 s).</summary>
internal static class ProcessCpu
{
    /// <summary>User and system time of the process (all its threads).</summary>
    public static double Seconds(int pid) => Ticks(File.ReadAllText($"/proc/{pid}/stat")) / 100.0;

    /// <summary>
    /// The same for the process and every process below it, alive now (a server that forks a process per session,
    /// such as pure-ftpd: read while the sessions run).
    /// </summary>
    public static double TreeSeconds(int root)
    {
        var processes = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    processes[pid] = (int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture), Ticks(stat));
                }
                catch (IOException)
                {
                    // gone meanwhile
                }
            }
        }

        bool Below(int pid) => pid == root || (processes.TryGetValue(pid, out var p) && p.Parent > 1 && Below(p.Parent));
        return processes.Where(p => Below(p.Key)).Sum(p => p.Value.Ticks) / 100.0;
    }

    private static long Ticks(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}

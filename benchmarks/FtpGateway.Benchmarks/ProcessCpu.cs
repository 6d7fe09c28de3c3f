using System.Globalization;

namespace FtpGateway.Benchmarks;

/// <summary>CPU seconds a process has used, from <c>/proc/PID/stat</c> (clock ticks of 1/100 s).</summary>
internal static class ProcessCpu
{
    /// <summary>User and system time of the process (all its threads).</summary>
    public static double Seconds(int pid) => Ticks(File.ReadAllText($"/proc/{pid}/stat")) / 100.0;

    /// <summary>
    /// The CPU ticks of the process and of every process below it, alive now, by process (a server that forks a
    /// process per session, such as pure-ftpd).
    /// </summary>
    public static Dictionary<int, long> Tree(int root)
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
        return processes.Where(p => Below(p.Key)).ToDictionary(p => p.Key, p => p.Value.Ticks);
    }

    /// <summary>
    /// The CPU seconds a tree used between two readings of <see cref="Tree"/>, process by process: a process new
    /// since the first counts whole; one gone by the second (a session that ended meanwhile) is left out.
    /// </summary>
    public static double SecondsSince(Dictionary<int, long> before, Dictionary<int, long> after) =>
        after.Sum(p => before.TryGetValue(p.Key, out var then) && then <= p.Value ? p.Value - then : p.Value) / 100.0;

    /// <summary>The CPU seconds the whole machine has been busy, all cores (<c>/proc/stat</c>: everything but idle and I/O wait).</summary>
    public static double MachineBusySeconds()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long busy = 0;
        foreach (var i in new[] { 1, 2, 3, 6, 7, 8 }) // user, nice, system, irq, softirq, steal
        {
            busy += long.Parse(cpu[i], CultureInfo.InvariantCulture);
        }

        return busy / 100.0;
    }

    private static long Ticks(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}

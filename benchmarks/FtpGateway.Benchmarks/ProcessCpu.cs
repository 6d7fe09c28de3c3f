using System.Globalization;

namespace FtpGateway.Benchmarks;

/// <summary>CPU seconds a process has used, from <c>/proc/PID/stat</c> (clock ticks of 1/100 s).</summary>
internal static class ProcessCpu
{
    /// <summary>User and system time of the process (all its threads).</summary>
    public static double Seconds(int pid) => Read(pid).Own;

    /// <summary>The process's own user and system time, and that of its children that have ended and been waited for (<c>cutime</c>, <c>cstime</c>).</summary>
    public static (double Own, double Children) Read(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return ((Tick(fields[11]) + Tick(fields[12])) / 100.0, (Tick(fields[13]) + Tick(fields[14])) / 100.0);
    }

    /// <summary>
    /// The CPU seconds the whole machine has been busy, all cores (<c>/proc/stat</c>: user, nice, system, irq and
    /// softirq; not idle, I/O wait, or steal — time the host gave to others).
    /// </summary>
    public static double MachineBusySeconds()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long busy = 0;
        foreach (var i in new[] { 1, 2, 3, 6, 7 }) // user, nice, system, irq, softirq
        {
            busy += long.Parse(cpu[i], CultureInfo.InvariantCulture);
        }

        return busy / 100.0;
    }

    /// <summary>The processes whose parent is <paramref name="pid"/> (running, or ended and not yet reaped).</summary>
    public static IEnumerable<int> ChildrenOf(int pid) => Processes().Where(p => p.Parent == pid).Select(p => p.Pid);

    /// <summary>Whether any of <paramref name="pids"/> has a child (running, or ended and not yet reaped); one look at <c>/proc</c>.</summary>
    public static bool AnyHasChildren(IReadOnlyCollection<int> pids) => Processes().Any(p => pids.Contains(p.Parent));

    /// <summary>Every process with its parent, from <c>/proc</c>, skipping those that end while it is read.</summary>
    private static IEnumerable<(int Pid, int Parent)> Processes()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue; // it ended while we looked
            }

            yield return (pid, ParentOf(stat));
        }
    }

    /// <summary>The parent's pid in a <c>/proc/PID/stat</c> line.</summary>
    private static int ParentOf(string stat) => int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);

    private static long Tick(string field) => long.Parse(field, CultureInfo.InvariantCulture);
}

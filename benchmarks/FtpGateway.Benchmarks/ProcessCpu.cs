using System.Globalization;

namespace FtpGateway.Benchmarks;

/// <summary>CPU seconds a process has used, from <c>/proc/PID/stat</c> (clock ticks of 1/100 s).</summary>
internal static class ProcessCpu
{
    /// <summary>User and system time of the process (all its threads).</summary>
    public static double Seconds(int pid) => Ticks(File.ReadAllText($"/proc/{pid}/stat")) / 100.0;

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

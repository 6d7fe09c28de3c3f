using System.Diagnostics;

namespace FtpGateway.Benchmarks;

/// <summary>
/// Where the CPU of a comparison went, side by side: the named processes (the gateway, the store's; with their
/// children that ended, pure-ftpd's sessions), the clients the benchmark ran that ended meanwhile (curl, lftp,
/// Python: its reaped children), the benchmark process itself (an SDK peer runs in it, and so do its readers of
/// the servers' output and pure-ftpd's memory sampler) and the whole machine (<c>/proc/stat</c>), per unit of
/// work, with how many of the cores were busy while the work ran. A ratio below its target on a machine of few
/// cores then shows whether the cores were full, and who had them. Warm-ups count like timed rounds: each side's
/// work is the same in both.
/// </summary>
internal sealed class CpuMeter
{
    private readonly string _unit;
    private readonly (double Scale, string Suffix) _shown;

    private CpuMeter(string unit, (double, string) shown, (string Name, IReadOnlyList<int> Pids)[] processes)
    {
        (_unit, _shown) = (unit, shown);
        Gateway = new Side(processes);
        Peer = new Side(processes);
    }

    public Side Gateway { get; }

    public Side Peer { get; }

    /// <summary>For large transfers: seconds per GiB.</summary>
    public static CpuMeter PerGiB(params (string Name, IReadOnlyList<int> Pids)[] processes) => new("GiB", (1.0, "s"), processes);

    /// <summary>For small files: milliseconds per file.</summary>
    public static CpuMeter PerFile(params (string Name, IReadOnlyList<int> Pids)[] processes) => new("file", (1000.0, "ms"), processes);

    /// <summary><paramref name="work"/>, <paramref name="units"/> of the unit, counted on <paramref name="side"/> where there is one.</summary>
    public static Task<T> MeasureAsync<T>(Side? side, double units, Func<Task<T>> work) => side is null ? work() : side.MeasureAsync(units, work);

    /// <summary>How many GiB <paramref name="bytes"/> are (the unit of the large transfers).</summary>
    public static double GiB(long bytes) => bytes / (double)(1L << 30);

    /// <summary>One line: per unit, each side's processes, clients, benchmark and machine, and the cores busy.</summary>
    public string Describe() => $"per {_unit}: the gateway's side {Gateway.Describe(_shown)}; the peer's side {Peer.Describe(_shown)}";

    /// <summary>One side's totals.</summary>
    internal sealed class Side((string Name, IReadOnlyList<int> Pids)[] processes)
    {
        private readonly double[] _processes = new double[processes.Length];
        private double _clients;
        private double _benchmark;
        private double _machine;
        private double _wall;
        private double _units;

        /// <summary>Runs <paramref name="work"/>, <paramref name="units"/> of the unit (a GiB, a file), and counts its CPU and time.</summary>
        public async Task<T> MeasureAsync<T>(double units, Func<Task<T>> work)
        {
            var before = Read();
            var clock = Stopwatch.StartNew();
            var result = await work();
            await SessionsEndedAsync();
            var wall = clock.Elapsed.TotalSeconds; // the same window as the CPU read after it
            var after = Read();
            for (var i = 0; i < _processes.Length; i++)
            {
                _processes[i] += after.Processes[i] - before.Processes[i];
            }

            _clients += after.Clients - before.Clients;
            _benchmark += after.Benchmark - before.Benchmark;
            _machine += after.Machine - before.Machine;
            _wall += wall;
            _units += units;
            return result;
        }

        public string Describe((double Scale, string Suffix) shown)
        {
            if (_units == 0)
            {
                return "not measured";
            }

            string Per(double seconds) => Report.Invariant($"{seconds * shown.Scale / _units:F3} {shown.Suffix}");
            var parts = processes.Select((p, i) => $"{p.Name} {Per(_processes[i])}")
                .Append($"clients {Per(_clients)}")
                .Append($"the benchmark {Per(_benchmark)}")
                .Append(Report.Invariant($"machine {Per(_machine)} ({_machine / _wall:F2} of {Environment.ProcessorCount} cores busy)"));
            return string.Join(", ", parts);
        }

        /// <summary>
        /// Waits (a second at most) until the named processes have no child left: a client quits once it has the
        /// <c>221</c>, and pure-ftpd's session may still be ending, its CPU counted only when its master reaps it.
        /// </summary>
        private async Task SessionsEndedAsync()
        {
            var deadline = Stopwatch.StartNew();
            var named = processes.SelectMany(p => p.Pids).ToHashSet();
            while (ProcessCpu.AnyHasChildren(named) && deadline.Elapsed < TimeSpan.FromSeconds(1))
            {
                await Task.Delay(10);
            }
        }

        private (double[] Processes, double Clients, double Benchmark, double Machine) Read()
        {
            var self = ProcessCpu.Read(Environment.ProcessId);
            return ([.. processes.Select(p => p.Pids.Sum(OwnAndEnded))], self.Children, self.Own, ProcessCpu.MachineBusySeconds());
        }

        private static double OwnAndEnded(int pid)
        {
            var (own, children) = ProcessCpu.Read(pid);
            return own + children;
        }
    }
}

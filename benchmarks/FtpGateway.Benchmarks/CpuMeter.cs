using System.Diagnostics;

namespace FtpGateway.Benchmarks;

/// <summary>
/// Where the CPU of a comparison went, side by side: the named processes (the gateway, the store's; with their
/// children that ended, pure-ftpd's sessions), the
/// benchmark's clients that ended meanwhile (curl, Python: its reaped children), the benchmark itself (an SDK
/// peer runs in it) and the whole machine (<c>/proc/stat</c>), per unit of work, with how many of the cores were
/// busy while the work ran. A ratio below its target on these 2 cores then shows whether the cores were full,
/// and who had them. Warm-ups count like timed rounds: each side's work is the same in both.
/// </summary>
/// <param name="unit">what one unit of work is ("GiB", "file").</param>
/// <param name="processes">the processes to name, each with its process ids.</param>
internal sealed class CpuMeter(string unit, params (string Name, IReadOnlyList<int> Pids)[] processes)
{
    public Side Gateway { get; } = new(processes);

    public Side Peer { get; } = new(processes);

    /// <summary><paramref name="work"/>, <paramref name="units"/> of the unit, counted on <paramref name="side"/> where there is one.</summary>
    public static Task<T> Measure<T>(Side? side, double units, Func<Task<T>> work) => side is null ? work() : side.MeasureAsync(units, work);

    /// <summary>How many GiB <paramref name="bytes"/> are (the unit of the large transfers).</summary>
    public static double GiB(long bytes) => bytes / (double)(1L << 30);

    /// <summary>One line: per <c>unit</c>, each side's processes, clients, benchmark and machine, and the cores busy.</summary>
    public string Describe()
    {
        var ms = Math.Max(Gateway.MachinePerUnit, Peer.MachinePerUnit) < 0.1; // a small file's in milliseconds
        return $"per {unit}: the gateway's side {Gateway.Describe(ms)}; the peer's side {Peer.Describe(ms)}";
    }

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
            var wall = clock.Elapsed.TotalSeconds;
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

        public double MachinePerUnit => _machine / _units;

        public string Describe(bool milliseconds)
        {
            if (_units == 0)
            {
                return "not measured";
            }

            var (scale, suffix) = milliseconds ? (1000.0, "ms") : (1.0, "s");
            string Per(double seconds) => Report.Invariant($"{seconds * scale / _units:F3} {suffix}");
            var parts = processes.Select((p, i) => $"{p.Name} {Per(_processes[i])}")
                .Append($"clients {Per(_clients)}")
                .Append($"the benchmark {Per(_benchmark)}")
                .Append(Report.Invariant($"machine {Per(_machine)} ({_machine / _wall:F2} of {Environment.ProcessorCount} cores busy)"));
            return string.Join(", ", parts);
        }

        private static double Tree(int pid)
        {
            var (own, children) = ProcessCpu.Read(pid);
            return own + children;
        }

        private (double[] Processes, double Clients, double Benchmark, double Machine) Read()
        {
            var self = ProcessCpu.Read(Environment.ProcessId);
            return ([.. processes.Select(p => p.Pids.Sum(Tree))], self.Children, self.Own, ProcessCpu.MachineBusySeconds());
        }
    }
}

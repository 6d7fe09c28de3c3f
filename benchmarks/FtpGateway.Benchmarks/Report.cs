using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace FtpGateway.Benchmarks;

/// <summary>Whether a larger figure is better (a rate) or a smaller one (a time, a size).</summary>
internal enum Better
{
    Higher,
    Lower,
}

/// <summary>
/// One measured row: the gateway's median against its peer's median in the same run, and the ratio the issue
/// asks for (always "gateway as good as the peer" = 1.0; above 1 is better).
/// </summary>
internal sealed record Row(string Section, string What, string Unit, double Gateway, string Peer, double PeerValue, Better Better, double Target)
{
    /// <summary>How the gateway compares, oriented so that above 1.0 is better: rate ratio, or time ratio inverted.</summary>
    public double Ratio => Better == Better.Higher ? Gateway / PeerValue : PeerValue / Gateway;

    public bool Met => Ratio >= Target;
}

/// <summary>Collects rows and single figures while the sections run; prints the summary at the end.</summary>
internal sealed class Report
{
    private readonly List<Row> _rows = [];
    private readonly List<(string Section, string What, string Value)> _figures = [];

    public void Add(Row row)
    {
        _rows.Add(row);
        Console.WriteLine(Invariant($"  => {row.What}: gateway {row.Gateway:0.###} {row.Unit}, {row.Peer} {row.PeerValue:0.###} {row.Unit}, ratio {row.Ratio:F2} (target ≥ {row.Target:F2})"));
    }

    /// <summary>A figure without a peer (memory per session, a first byte time, a limit reached).</summary>
    public void Figure(string section, string what, string value)
    {
        _figures.Add((section, what, value));
        Console.WriteLine($"  => {what}: {value}");
    }

    /// <summary>The rows as an SVG bar chart (<see cref="ReportChart"/>) in <paramref name="path"/>.</summary>
    public void WriteChart(string path, string title) => File.WriteAllText(path, ReportChart.Render(_rows, title));

    public void Print()
    {
        Console.WriteLine();
        Console.WriteLine("Summary (medians; ratio oriented so that ≥ 1.00 means the gateway is at least as good as the peer)");
        Console.WriteLine($"{"section",-8} {"measure",-34} {"gateway",12} {"peer",-30} {"peer value",12} {"ratio",6} {"target",7} {"",4}");
        foreach (var r in _rows)
        {
            Console.WriteLine(Invariant($"{r.Section,-8} {r.What,-34} {r.Gateway,12:0.###} {r.Peer,-30} {r.PeerValue,12:0.###} {r.Ratio,6:F2} {r.Target,7:F2} {(r.Met ? "ok" : "MISS"),4}"));
        }

        foreach (var (section, what, value) in _figures)
        {
            Console.WriteLine($"{section,-8} {what,-34} {value}");
        }
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Rounds of a gateway-versus-peer comparison: untimed warm-ups of each (the gateway's JIT compiles a hot path
/// fully only after it ran a few dozen times: a long-running server is measured, not its first minutes), then
/// rounds in alternating order so that neither side always goes first (the machine's noise, page-cache
/// writeback and the store's compaction fall on both alike). Each round returns one figure per side.
/// </summary>
internal static class Rounds
{
    public static async Task<(double Gateway, double Peer)> MedianAsync(string label, int runs, Func<Task<double>> gateway, Func<Task<double>> peer, int warmUps = 1)
    {
        var (g, p) = await AlternateAsync(runs, gateway, peer, warmUps,
            (run, a, b) => Console.WriteLine(Report.Invariant($"  {label} round {run + 1}: gateway {a:0.###}, peer {b:0.###}")));
        return (Report.Median(g), Report.Median(p));
    }

    /// <summary>The warm-ups, then <paramref name="runs"/> rounds in alternating order; every round's figures of each side.</summary>
    public static async Task<(List<T> Gateway, List<T> Peer)> AlternateAsync<T>(int runs, Func<Task<T>> gateway, Func<Task<T>> peer, int warmUps = 1, Action<int, T, T>? roundDone = null)
    {
        for (var i = 0; i < warmUps; i++)
        {
            await gateway();
            await peer();
        }

        if (warmUps > 0)
        {
            await JitSettledAsync();
        }

        var (g, p) = (new List<T>(), new List<T>());
        for (var run = 0; run < runs; run++)
        {
            if (run % 2 == 0)
            {
                g.Add(await gateway());
                p.Add(await peer());
            }
            else
            {
                p.Add(await peer());
                g.Add(await gateway());
            }

            roundDone?.Invoke(run, g[^1], p[^1]);
        }

        return (g, p);
    }

    /// <summary>
    /// Waits until this process's JIT has compiled nothing for 300 ms (10 s at most). The SDK peers run in this
    /// process, and the runtime compiles their hot methods again, optimised, on a background thread after their
    /// first calls: that work (1.4 s of CPU after the S3 small files' warm-up) fell into the gateway's first round.
    /// </summary>
    private static async Task JitSettledAsync()
    {
        var clock = Stopwatch.StartNew();
        for (var compiled = JitInfo.GetCompiledMethodCount(); clock.Elapsed < TimeSpan.FromSeconds(10);)
        {
            await Task.Delay(300);
            var now = JitInfo.GetCompiledMethodCount();
            if (now == compiled)
            {
                return;
            }

            compiled = now;
        }
    }
}

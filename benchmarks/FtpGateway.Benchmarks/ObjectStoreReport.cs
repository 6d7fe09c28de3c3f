using System.Globalization;

namespace FtpGateway.Benchmarks;

/// <summary>The runs, medians and printed comparison table shared by the S3 and Azure benchmarks.</summary>
internal static class ObjectStoreReport
{
    /// <summary>
    /// One untimed warm-up round of each path (JIT, connection pools, the store's first allocations), then
    /// <paramref name="runs"/> timed rounds in alternating order, so that neither path always goes first.
    /// Each path uploads the large file and downloads it again and returns both rates in MB/s.
    /// </summary>
    public static async Task<List<(double GwUp, double GwDown, double SdkUp, double SdkDown)>> MeasureAsync(
        string label, int runs, Func<Task<(double Up, double Down)>> gateway, Func<Task<(double Up, double Down)>> sdk)
    {
        await gateway();
        await sdk();
        var samples = new List<(double GwUp, double GwDown, double SdkUp, double SdkDown)>();
        for (var run = 0; run < runs; run++)
        {
            (double Up, double Down) g, d;
            if (run % 2 == 0)
            {
                g = await gateway();
                d = await sdk();
            }
            else
            {
                d = await sdk();
                g = await gateway();
            }

            samples.Add((g.Up, g.Down, d.Up, d.Down));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {label} run {run + 1} ({(run % 2 == 0 ? "gateway" : "SDK")} first): gateway STOR {g.Up:F0} MB/s, RETR {g.Down:F0} MB/s; SDK upload {d.Up:F0} MB/s, download {d.Down:F0} MB/s"));
        }

        return samples;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    public static void Print(string store, string gateway, string sdk, IReadOnlyList<(double GwUp, double GwDown, double SdkUp, double SdkDown)> samples, double peakRssMiB)
    {
        var (gu, gd, su, sd) = (Median(samples.Select(s => s.GwUp)), Median(samples.Select(s => s.GwDown)), Median(samples.Select(s => s.SdkUp)), Median(samples.Select(s => s.SdkDown)));
        Console.WriteLine();
        Console.WriteLine($"{store,-26} {"upload MB/s",12} {"download MB/s",14} {"peak RSS MiB",13}");
        Console.WriteLine($"{gateway,-26} {gu,12:F0} {gd,14:F0} {peakRssMiB,13:F1}");
        Console.WriteLine($"{sdk,-26} {su,12:F0} {sd,14:F0} {"",13}");
        Console.WriteLine($"{"ratio gateway/SDK",-26} {gu / su,12:F2} {gd / sd,14:F2}");
        Console.WriteLine();
    }
}
